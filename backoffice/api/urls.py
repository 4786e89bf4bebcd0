from django.urls import path

from . import audit, disputes, players, policy, reports, withdrawals

urlpatterns = [
    path("admin/withdrawals/", withdrawals.WithdrawalQueueView.as_view(), name="admin-withdrawals"),
    path(
        "admin/withdrawals/<str:withdrawal_id>/",
        withdrawals.WithdrawalDetailView.as_view(),
        name="admin-withdrawal",
    ),
    path(
        "admin/withdrawals/<str:withdrawal_id>/approve/",
        withdrawals.ApproveWithdrawalView.as_view(),
        name="admin-approve",
    ),
    path(
        "admin/withdrawals/<str:withdrawal_id>/reject/",
        withdrawals.RejectWithdrawalView.as_view(),
        name="admin-reject",
    ),
    path(
        "admin/withdrawals/<str:withdrawal_id>/mark-paid/",
        withdrawals.MarkWithdrawalPaidView.as_view(),
        name="admin-mark-paid",
    ),
    path(
        "admin/withdrawals/<str:withdrawal_id>/retry-payout/",
        withdrawals.RetryWithdrawalPayoutView.as_view(),
        name="admin-retry-payout",
    ),
    path("admin/payment-policy/", policy.PaymentPolicyView.as_view(), name="admin-payment-policy"),
    path("admin/payment-policy/changes/", policy.PolicyChangeListView.as_view(), name="admin-policy-changes"),
    path(
        "admin/payment-policy/changes/<int:change_id>/approve/",
        policy.ApprovePolicyChangeView.as_view(),
        name="admin-policy-change-approve",
    ),
    path(
        "admin/payment-policy/changes/<int:change_id>/reject/",
        policy.RejectPolicyChangeView.as_view(),
        name="admin-policy-change-reject",
    ),
    path("admin/players/", players.PlayerListView.as_view(), name="admin-players"),
    path("admin/players/<str:player_id>/", players.PlayerDetailView.as_view(), name="admin-player"),
    path("admin/players/<str:player_id>/kyc/", players.PlayerKycView.as_view(), name="admin-player-kyc"),
    path(
        "admin/players/<str:player_id>/exclusions/",
        players.PlayerBlockView.as_view(),
        name="admin-player-exclusions",
    ),
    path(
        "admin/players/<str:player_id>/exclusions/<str:exclusion_id>/lift/",
        players.LiftBlockView.as_view(),
        name="admin-player-exclusion-lift",
    ),
    path("admin/transactions/<str:transaction_id>/snapshot/", audit.SnapshotView.as_view(), name="admin-snapshot"),
    path("admin/reports/ggr/", reports.GgrReportView.as_view(), name="admin-reports-ggr"),
    path("admin/chargebacks/", disputes.ChargebackListView.as_view(), name="admin-chargebacks"),
    path("admin/receivables/", disputes.ReceivableListView.as_view(), name="admin-receivables"),
    path("admin/audit-events/", audit.AuditEventListView.as_view(), name="admin-audit-events"),
]
