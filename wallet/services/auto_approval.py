"""Auto-approval: small, flag-free withdrawals of verified players are approved by the system.

Per currency, `auto_approve_below` (empty: never). A request qualifies when its amount is
below it, it has no risk flag (so it is not large: never where four eyes apply), and the
player's identity is verified. The system actor `auto-approval` approves it right after
the request commits, in a transaction of its own that re-checks the rule under the
withdrawal's lock, and the approval dispatches the payout as any approval does. If the
process stops between the two, the request simply waits for an operator.
"""

import logging

from django.db import transaction

from core.actors import Actor
from core.audit import record_event
from core.unit_of_work import UnitOfWork
from players.models import KycStatus, Player
from wallet import limits, protection
from wallet.models import WithdrawalState

from . import withdrawals  # the module: it imports this one, and its approve is used at call time
from .common import lock_withdrawal

log = logging.getLogger(__name__)

AUTO_APPROVAL = Actor.system("auto-approval")


def rule_for(withdrawal, currency_limits, *, verified: bool) -> dict | None:
    """The rule that lets `withdrawal` be approved automatically, or None."""
    threshold = currency_limits.auto_approve_below if currency_limits else None
    four_eyes = currency_limits.four_eyes_amount if currency_limits else None
    if threshold is None or withdrawal.amount >= threshold or withdrawal.risk_flags or not verified:
        return None
    if four_eyes is not None and withdrawal.amount >= four_eyes:
        return None
    return {
        "auto_approve_below": threshold,
        "amount": withdrawal.amount,
        "currency": withdrawal.currency,
        "risk_flags": [],
        "kyc_status": KycStatus.VERIFIED.value,
    }


def auto_approve(withdrawal_id, rule: dict):
    """Approve the withdrawal as `auto-approval` if the rule still holds; never raises (the request is committed)."""
    try:
        with transaction.atomic():
            withdrawal = lock_withdrawal(withdrawal_id)
            if withdrawal.state != WithdrawalState.REQUESTED:
                return None
            verified = Player.objects.filter(pk=withdrawal.player_id, kyc_status=KycStatus.VERIFIED).exists()
            now_rule = rule_for(
                withdrawal, limits.currency_limits(withdrawal.tenant, withdrawal.currency), verified=verified
            )
            if now_rule is None or protection.open_receivables(withdrawal.player_id):
                return None  # the policy or the player changed since the request: an operator decides
            approved = withdrawals.approve_withdrawal(
                withdrawal,
                actor=AUTO_APPROVAL,
                reason=f"Below {now_rule['auto_approve_below']} minor units, no risk flags, KYC verified",
            )
            uow = UnitOfWork()
            record_event(
                tenant=withdrawal.tenant_id,
                actor=AUTO_APPROVAL,
                action="withdrawal.auto_approved",
                target=withdrawal,
                data={"rule": now_rule},
                uow=uow,
            )
            uow.flush()
            return approved
    except Exception:  # noqa: BLE001 - the request stands; an operator approves it instead
        log.exception("Automatic approval of withdrawal %s failed; it waits for an operator", withdrawal_id)
        return None
