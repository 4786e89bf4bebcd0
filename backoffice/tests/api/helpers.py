"""URLs, clients and checks shared by the operator API tests.

Clients, problem checks and Idempotency-Key handling come from the player API helpers
(wallet/tests/api/helpers.py); this module adds the operator side: who acts, where,
and what a decision left behind.
"""

import json

from django.db.models import Max

from core.models import AuditEvent
from wallet.models import Withdrawal, WithdrawalApproval, WithdrawalTransition
from wallet.tests.api.helpers import client_for, post_money
from wallet.tests.builders import REASON
from wallet.tests.staff import (  # noqa: F401 - the tests import these from here
    ADMIN,
    DECIDING_ROLES,
    DECISIONS,
    FINANCE,
    ROLES,
    VIEWER,
    operator_user,
    platform_superuser,
)

ADMIN_API = "/api/v1/admin"
QUEUE = f"{ADMIN_API}/withdrawals/"
POLICY = f"{ADMIN_API}/payment-policy/"
AUDIT = f"{ADMIN_API}/audit-events/"


def detail_url(withdrawal_id) -> str:
    return f"{QUEUE}{withdrawal_id}/"


def decision_url(withdrawal_id, decision: str) -> str:
    return f"{QUEUE}{withdrawal_id}/{decision}/"


def snapshot_url(tx_id) -> str:
    return f"{ADMIN_API}/transactions/{tx_id}/snapshot/"


def decide(client, withdrawal_id, decision: str, reason: str | None = REASON, *, key="auto"):
    """POST one decision with `{"reason": reason}` (no reason member when None)."""
    body = {} if reason is None else {"reason": reason}
    return post_money(client, decision_url(withdrawal_id, decision), body, key=key)


def as_operator(user):
    return client_for(user)


def state_of(withdrawal) -> str:
    return Withdrawal.objects.values_list("state", flat=True).get(pk=withdrawal.pk)


def history_of(withdrawal) -> list[tuple[str, str]]:
    rows = WithdrawalTransition.objects.filter(withdrawal_id=withdrawal.pk).order_by("id")
    return [tuple(row) for row in rows.values_list("from_state", "to_state")]


def approvers_of(withdrawal) -> list[int]:
    return list(
        WithdrawalApproval.objects.filter(withdrawal_id=withdrawal.pk)
        .order_by("id")
        .values_list("operator_id", flat=True)
    )


def last_audit_id() -> int:
    return AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0


def audit_since(mark: int, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=mark, **filters).order_by("id"))


def body_of(response) -> dict:
    return json.loads(response.content)


NO_LIMITS = dict.fromkeys(
    (
        "daily_deposit_limit",
        "daily_withdraw_limit",
        "min_amount",
        "max_amount",
        "four_eyes_amount",
        "kyc_deposit_threshold",
        "auto_approve_below",
    )
)
# The player-protection controls of a new policy (tenants.models.PaymentPolicy defaults).
DEFAULT_CONTROLS = {
    "limit_increase_cooldown_hours": 24,
    "kyc_required_for_withdrawal": True,
    "player_cancel_allowed": True,
    "velocity_withdrawals_per_day": 3,
    "closed_loop": True,
    "game_round_idle_minutes": 60,
}


def change_url(change_id, decision: str) -> str:
    return f"{POLICY}changes/{change_id}/{decision}/"


def policy_body(retry: int = 3, cooldown: int = 0, reason: str = "Risk review", **limits_by_currency) -> dict:
    """A PUT body for the payment policy: policy_body(5, 60, EUR={"min_amount": "1.00"})."""
    rows = [{"currency": currency, **NO_LIMITS, **limits} for currency, limits in limits_by_currency.items()]
    return {"payout_retry_limit": retry, "payout_cooldown_seconds": cooldown, "currency_limits": rows, "reason": reason}
