from django.urls import path

from . import views

urlpatterns = [
    path("admin/withdrawals/", views.WithdrawalQueueView.as_view(), name="admin-withdrawals"),
    path("admin/withdrawals/<str:withdrawal_id>/", views.WithdrawalDetailView.as_view(), name="admin-withdrawal"),
    path("admin/withdrawals/<str:withdrawal_id>/approve/", views.ApproveView.as_view(), name="admin-approve"),
    path("admin/withdrawals/<str:withdrawal_id>/reject/", views.RejectView.as_view(), name="admin-reject"),
    path("admin/withdrawals/<str:withdrawal_id>/mark-paid/", views.MarkPaidView.as_view(), name="admin-mark-paid"),
    path(
        "admin/withdrawals/<str:withdrawal_id>/retry-payout/",
        views.RetryPayoutView.as_view(),
        name="admin-retry-payout",
    ),
    path("admin/payment-policy/", views.PaymentPolicyView.as_view(), name="admin-payment-policy"),
    path("admin/transactions/<str:transaction_id>/snapshot/", views.SnapshotView.as_view(), name="admin-snapshot"),
    path("admin/audit-events/", views.AuditEventListView.as_view(), name="admin-audit-events"),
]
