"""URLs of the sandbox PSP service (its own process and port; see config/sandbox_settings.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("v1/payments", views.payments, name="sandbox-payments"),
    path("v1/payments/<str:payment_id>/chargeback", views.payment_dispute, {"step": "chargeback"}),
    path("v1/payments/<str:payment_id>/chargeback-reversal", views.payment_dispute, {"step": "chargeback-reversal"}),
    path("v1/payments/<str:payment_id>/second-chargeback", views.payment_dispute, {"step": "second-chargeback"}),
    path("v1/payouts", views.payouts, name="sandbox-payouts"),
    path("v1/payouts/<str:key>", views.payout_status, name="sandbox-payout"),
    path("v1/payouts/<str:key>/return", views.payout_return, name="sandbox-payout-return"),
    path("v1/behavior", views.behavior, name="sandbox-behavior"),
    path("v1/settlements/<str:day>.csv", views.settlement, name="sandbox-settlement"),
    path("checkout/<str:payment_id>/", views.checkout, name="sandbox-checkout"),
]
