"""Withdrawal services: request, approve, reject, cancel, mark paid.

The payout services (start, outcome, retry) live in payouts.services and follow the
same rules. Each function is one database transaction holding the withdrawal's row
lock, then the wallet's where money moves.
"""

from django.db import transaction

from wallet import limits
from wallet.errors import InsufficientFunds, PaymentLimitExceeded
from wallet.ledger import post_money_event
from wallet.models import Actor, LedgerEvent, Player, Withdrawal, WithdrawalState
from wallet.money import format_amount
from wallet.transitions import apply_transition, record_creation
from wallet.unit_of_work import UnitOfWork

from .common import (
    audit_limit_refusal,
    ensure_currency_allowed,
    ensure_positive,
    ensure_reason,
    ensure_tenant_active,
    lock_wallet_and_limits,
    lock_wallet_of,
    lock_withdrawal,
)


def request_withdrawal(*, player: Player, amount: int, currency: str, actor: Actor) -> Withdrawal:
    """Move `amount` from available to held and open a withdrawal for review."""
    tenant = player.tenant
    ensure_positive(amount)
    ensure_tenant_active(tenant)
    ensure_currency_allowed(tenant, currency)
    try:
        with transaction.atomic():
            wallet, currency_limits = lock_wallet_and_limits(player, currency, create=False)
            limits.check_amount_bounds(currency_limits, amount, currency)
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
            uow = UnitOfWork()
            withdrawal = Withdrawal(
                tenant=tenant,
                player=player,
                wallet=wallet,
                amount=amount,
                currency=currency,
                requested_by_id=actor.user_id,
            )
            record_creation(uow, withdrawal, actor=actor)
            post_money_event(wallet=wallet, event_type=LedgerEvent.WITHDRAW_REQUESTED, source=withdrawal, uow=uow)
            uow.flush()
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
        uow = UnitOfWork()
        if apply_transition(uow, withdrawal, "approve", actor=actor, reason=reason):
            transaction.on_commit(lambda: _enqueue_payout(withdrawal.pk))
        uow.flush()
        return withdrawal


def reject_withdrawal(withdrawal, *, actor: Actor, reason: str = "") -> Withdrawal:
    """Refuse the withdrawal (before payout, or after a failed one): held goes back to available."""
    reason = ensure_reason(actor, reason)
    with transaction.atomic():
        withdrawal = lock_withdrawal(withdrawal)
        uow = UnitOfWork()
        if apply_transition(uow, withdrawal, "reject", actor=actor, reason=reason):
            _post(uow, withdrawal, LedgerEvent.WITHDRAW_RELEASED)
        uow.flush()
        return withdrawal


def cancel_withdrawal(withdrawal, *, actor: Actor, reason: str = "") -> Withdrawal:
    """The player takes back a withdrawal still awaiting review."""
    with transaction.atomic():
        withdrawal = lock_withdrawal(withdrawal)
        uow = UnitOfWork()
        if apply_transition(uow, withdrawal, "cancel", actor=actor, reason=reason):
            _post(uow, withdrawal, LedgerEvent.WITHDRAW_RELEASED)
        uow.flush()
        return withdrawal


def mark_withdrawal_paid(withdrawal, *, actor: Actor, reason: str = "") -> Withdrawal:
    """Record a payout made outside the provider: the held money leaves the wallet."""
    reason = ensure_reason(actor, reason)
    with transaction.atomic():
        withdrawal = lock_withdrawal(withdrawal)
        if withdrawal.state != WithdrawalState.PAID:
            ensure_tenant_active(withdrawal.tenant)
        uow = UnitOfWork()
        if apply_transition(uow, withdrawal, "mark_paid", actor=actor, reason=reason, changes={"paid_at": uow.now}):
            settle_paid(uow, withdrawal)
        uow.flush()
        return withdrawal


def _enqueue_payout(withdrawal_id) -> None:
    """After the approval commits, the payout worker takes over (payouts.tasks)."""
    from payouts.tasks import dispatch_payout

    dispatch_payout.delay(str(withdrawal_id))


def settle_paid(uow: UnitOfWork, withdrawal: Withdrawal) -> None:
    """The ledger side of a paid withdrawal; the caller holds the withdrawal's lock."""
    _post(uow, withdrawal, LedgerEvent.WITHDRAW_PAID)


def _post(uow: UnitOfWork, withdrawal: Withdrawal, event_type: str) -> None:
    wallet = lock_wallet_of(withdrawal)
    post_money_event(wallet=wallet, event_type=event_type, source=withdrawal, uow=uow)
