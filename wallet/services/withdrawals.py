"""Withdrawal services: request, approve, reject, cancel, mark paid.

The payout services (start, outcome, retry) live in payouts.services and follow the
same rules. Each function is one database transaction holding the withdrawal's row
lock, then the wallet's where money moves.
"""

from django.db import transaction
from django.utils import timezone

from wallet import limits
from wallet.errors import InsufficientFunds, PaymentLimitExceeded
from wallet.ledger import post_money_event
from wallet.models import Actor, LedgerEvent, Player, Withdrawal, WithdrawalState
from wallet.money import format_amount
from wallet.transitions import apply_transition, record_creation

from .common import (
    audit_limit_refusal,
    ensure_currency_allowed,
    ensure_positive,
    ensure_reason,
    ensure_tenant_active,
    lock_wallet_for_update,
    lock_wallet_of,
    lock_withdrawal,
)


def request_withdrawal(*, player: Player, amount: int, currency: str, actor: Actor) -> Withdrawal:
    """Move `amount` from available to held and open a withdrawal for review."""
    tenant = player.tenant
    ensure_positive(amount)
    ensure_tenant_active(tenant)
    ensure_currency_allowed(tenant, currency)
    currency_limits = limits.currency_limits(tenant, currency)
    limits.check_amount_bounds(currency_limits, amount, currency)
    try:
        with transaction.atomic():
            wallet = lock_wallet_for_update(player, currency, create=False)
            available = wallet.balance_available if wallet else 0
            if amount > available:
                raise InsufficientFunds(
                    f"Available balance is {format_amount(available, currency)} {currency}; "
                    f"{format_amount(amount, currency)} {currency} was requested.",
                    available=format_amount(available, currency),
                    requested=format_amount(amount, currency),
                    currency=currency,
                )
            limits.check_daily_limit(
                tenant=tenant, limits=currency_limits, wallet=wallet, action=limits.WITHDRAW, amount=amount
            )
            withdrawal = Withdrawal.objects.create(
                tenant=tenant,
                player=player,
                wallet=wallet,
                amount=amount,
                currency=currency,
                requested_by_id=actor.user_id,
            )
            post_money_event(wallet=wallet, event_type=LedgerEvent.WITHDRAW_REQUESTED, source=withdrawal)
            record_creation(withdrawal, actor=actor)
            return withdrawal
    except PaymentLimitExceeded as refusal:
        audit_limit_refusal(refusal, player=player, actor=actor)
        raise


def approve_withdrawal(withdrawal, *, actor: Actor, reason: str = "") -> Withdrawal:
    """Release a requested withdrawal for payout. The money stays held."""
    reason = ensure_reason(actor, reason)
    with transaction.atomic():
        withdrawal = lock_withdrawal(withdrawal)
        if withdrawal.state != WithdrawalState.APPROVED:
            ensure_tenant_active(withdrawal.tenant)
        apply_transition(withdrawal, "approve", actor=actor, reason=reason)
        return withdrawal


def reject_withdrawal(withdrawal, *, actor: Actor, reason: str = "") -> Withdrawal:
    """Refuse the withdrawal (before payout, or after a failed one): held goes back to available."""
    reason = ensure_reason(actor, reason)
    with transaction.atomic():
        withdrawal = lock_withdrawal(withdrawal)
        if apply_transition(withdrawal, "reject", actor=actor, reason=reason):
            _release_held(withdrawal)
        return withdrawal


def cancel_withdrawal(withdrawal, *, actor: Actor, reason: str = "") -> Withdrawal:
    """The player takes back a withdrawal still awaiting review."""
    with transaction.atomic():
        withdrawal = lock_withdrawal(withdrawal)
        if apply_transition(withdrawal, "cancel", actor=actor, reason=reason):
            _release_held(withdrawal)
        return withdrawal


def mark_withdrawal_paid(withdrawal, *, actor: Actor, reason: str = "") -> Withdrawal:
    """Record a payout made outside the provider: the held money leaves the wallet."""
    reason = ensure_reason(actor, reason)
    with transaction.atomic():
        withdrawal = lock_withdrawal(withdrawal)
        if withdrawal.state != WithdrawalState.PAID:
            ensure_tenant_active(withdrawal.tenant)
        withdrawal.paid_at = timezone.now()
        if apply_transition(withdrawal, "mark_paid", actor=actor, reason=reason, extra_fields=("paid_at",)):
            settle_paid(withdrawal)
        else:
            withdrawal.refresh_from_db(fields=["paid_at"])
        return withdrawal


def settle_paid(withdrawal: Withdrawal) -> None:
    """The ledger side of a paid withdrawal; the caller holds the withdrawal's lock."""
    wallet = lock_wallet_of(withdrawal)
    post_money_event(wallet=wallet, event_type=LedgerEvent.WITHDRAW_PAID, source=withdrawal)


def _release_held(withdrawal: Withdrawal) -> None:
    wallet = lock_wallet_of(withdrawal)
    post_money_event(wallet=wallet, event_type=LedgerEvent.WITHDRAW_RELEASED, source=withdrawal)
