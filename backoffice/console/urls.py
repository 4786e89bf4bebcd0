from django.urls import path
from django.views.generic import RedirectView

from . import (
    views_api_tokens,
    views_audit,
    views_auth,
    views_disputes,
    views_players,
    views_policy,
    views_reports,
    views_withdrawals,
)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="console:queue"), name="home"),
    path("login/", views_auth.LoginView.as_view(), name="login"),
    path("logout/", views_auth.LogoutView.as_view(), name="logout"),
    path("login/second-factor/", views_auth.verify_otp, name="otp"),
    path("login/second-factor/setup/", views_auth.setup_otp, name="otp-setup"),
    path("withdrawals/", views_withdrawals.queue, name="queue"),
    path("withdrawals/<str:withdrawal_id>/", views_withdrawals.withdrawal_detail, name="withdrawal"),
    path(
        "withdrawals/<str:withdrawal_id>/<slug:decision>/confirm/",
        views_withdrawals.confirm_decision,
        name="confirm",
    ),
    path("withdrawals/<str:withdrawal_id>/<slug:decision>/", views_withdrawals.execute_decision, name="decide"),
    path("transactions/<str:transaction_id>/", views_withdrawals.transaction_snapshot, name="snapshot"),
    path("players/", views_players.players, name="players"),
    path("players/<str:player_id>/", views_players.player_detail, name="player"),
    path("players/<str:player_id>/kyc/", views_players.set_kyc, name="player-kyc"),
    path("players/<str:player_id>/block/", views_players.block, name="player-block"),
    path(
        "players/<str:player_id>/exclusions/<str:exclusion_id>/lift/",
        views_players.lift,
        name="player-lift",
    ),
    path("disputes/", views_disputes.disputes_page, name="disputes"),
    path("policy/", views_policy.policy, name="policy"),
    path(
        "policy/changes/<int:change_id>/<slug:decision>/",
        views_policy.decide_policy_change,
        name="policy-change-decide",
    ),
    path("audit/", views_audit.audit, name="audit"),
    path("reports/ggr/", views_reports.ggr_report, name="ggr"),
    path("api-tokens/", views_api_tokens.api_tokens, name="api-tokens"),
    path("api-tokens/<int:token_id>/revoke/", views_api_tokens.revoke_api_token, name="api-token-revoke"),
]
