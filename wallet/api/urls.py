from django.urls import path

from . import methods, protection, views

urlpatterns = [
    path("wallet/", views.WalletView.as_view(), name="wallet"),
    path("deposits/<uuid:deposit_id>/", views.DepositDetailView.as_view(), name="deposit"),
    path("withdrawals/", views.WithdrawalListView.as_view(), name="withdrawals"),
    path("withdrawals/<uuid:withdrawal_id>/cancel/", views.WithdrawalCancelView.as_view(), name="withdrawal-cancel"),
    path("transactions/", views.TransactionListView.as_view(), name="transactions"),
    path("transactions/<str:transaction_id>/", views.ReceiptView.as_view(), name="transaction"),
    path("payment-methods/", methods.PaymentMethodsView.as_view(), name="payment-methods"),
    path("limits/", protection.LimitsView.as_view(), name="limits"),
    path("exclusions/", protection.ExclusionsView.as_view(), name="exclusions"),
]
