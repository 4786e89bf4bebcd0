"""Withdrawal services: request, approve, reject, cancel, mark paid.

The payout transitions (start, retry, succeeded, failed) are in .payouts and follow
the same rules. Each function is one database transaction holding the withdrawal's
row lock, then the wallet's where money moves.
"""

import uuid

from django.db import transaction

from core.actors import Actor, ActorType
from core.audit import record_event
from core.errors import FourEyesViolation, NotFound, ValidationFailed
from core.money import format_amount
from core.unit_of_work import UnitOfWork
from players.errors import KycRequired
from players.models import Player
from tenants.selectors import payment_policy
from wallet import limits, protection
from wallet.closed_loop import check_destination
from wallet.errors import (
    ClosedLoopViolation,
    InsufficientFunds,
    PlayerAccountRestricted,
    TenantPaymentLimitExceeded,
    WithdrawalCancelDisabled,
)
from wallet.ledger import post_money_event
from wallet.models import LedgerEvent, PaymentMethod, Withdrawal, WithdrawalApproval, WithdrawalState
from wallet.risk import risk_flags
from wallet.transitions import apply_transition, record_creation

from . import auto_approval
from .common import (
    audit_limit_refusal,
    audit_payment_refusal,
    ensure_currency_allowed,
    ensure_positive,
    ensure_reason,
    ensure_tenant_active,
    lock_wallet_and_limits,
    lock_withdrawal,
    post_withdrawal_event,
)
from .payouts import enqueue_payout_dispatch


def request_withdrawal(*, player: Player, amount: int, currency: str, actor: Actor, payment_method=None) -> Withdrawal:
    """Move `amount` from available to held and open a withdrawal for review, paid out to `payment_method`.

    Refused without a verified identity where the casino requires it (KYC_REQUIRED,
    nothing held), and while a chargeback left the player owing the casino
    (PLAYER_ACCOUNT_RESTRICTED, wallet.protection). Once the player has a payment method,
    the withdrawal must name one of theirs as its destination (another player's or casino's
    id is NOT_FOUND, as an unknown one is), and the closed-loop rule decides how much it may
    receive (CLOSED_LOOP_VIOLATION, wallet.closed_loop), under the wallet's lock. The
    request's risk flags are computed here and stored with it; a flag-free request of a
    verified player below the currency's auto-approval amount is approved by the system
    right after this transaction commits (.auto_approval). Exclusions do not stop
    withdrawals: a player's money is always theirs to take out.
    """
    tenant = player.tenant
    ensure_positive(amount)
    ensure_tenant_active(tenant)
    ensure_currency_allowed(tenant, currency)
    method = destination_of(player, payment_method)  # one read when a method is named; none otherwise
    try:
        with transaction.atomic():
            locked = lock_wallet_and_limits(player, currency, create=False)
            wallet, currency_limits, state = locked.wallet, locked.limits, locked.player
            if state.kyc_required_for_withdrawal and not state.verified:
                raise KycRequired(
                    "Your identity must be verified before you can withdraw.", kyc_status=state.kyc_status
                )
            if state.restricted:
                protection.ensure_not_restricted(player)  # raises, with what is owed
            if method is None and state.has_payment_method:
                raise ValidationFailed(
                    "Name the payment method to pay out to (GET payment-methods/).",
                    errors={"payment_method": ["Required once you have a payment method."]},
                )
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
            if method is not None:
                check_destination(wallet, method, amount, closed_loop=state.closed_loop)
            limits.check_daily_limit(
                tenant=tenant, limits=currency_limits, wallet=wallet, action=limits.WITHDRAW, amount=amount
            )
            uow = UnitOfWork()
            flags = risk_flags(
                wallet,
                amount,
                now=uow.now,
                velocity_per_day=state.velocity_withdrawals_per_day,
                four_eyes_amount=currency_limits.four_eyes_amount if currency_limits else None,
                kyc_updated_at=state.kyc_updated_at,
                method=method,
            )
            withdrawal = Withdrawal(
                tenant=tenant,
                player=player,
                wallet=wallet,
                amount=amount,
                currency=currency,
                requested_by_id=actor.user_id,
                risk_flags=flags,
                payment_method=method,
            )
            data = {"risk_flags": flags}
            if method is not None:
                data["payment_method"] = {"id": str(method.pk), "label": method.label}
            record_creation(uow, withdrawal, actor=actor, data=data)
            post_money_event(wallet=wallet, event_type=LedgerEvent.WITHDRAW_REQUESTED, source=withdrawal, uow=uow)
            uow.flush()
            # Not a column: the casino's rule on reverse withdrawals as read under the lock, so the
            # API can say whether the new withdrawal is `cancelable` without reading the policy again.
            withdrawal.player_cancel_allowed = state.player_cancel_allowed
            rule = auto_approval.rule_for(withdrawal, currency_limits, verified=state.verified)
            if rule is not None:
                transaction.on_commit(lambda: auto_approval.auto_approve(withdrawal.pk, rule))
            return withdrawal
    except TenantPaymentLimitExceeded as refusal:
        audit_limit_refusal(refusal, player=player, actor=actor)
        raise
    except (KycRequired, ClosedLoopViolation, PlayerAccountRestricted) as refusal:
        audit_payment_refusal(refusal, player=player, actor=actor, action="withdrawal.refused")
        raise


def destination_of(player: Player, payment_method) -> PaymentMethod | None:
    """The player's method named as a withdrawal's destination (by id or instance), or None.

    An id that is not one of the player's methods (unknown, another player's, another casino's)
    is NOT_FOUND alike. Naming none is refused under the wallet's lock once the player has any
    method (VALIDATION_ERROR, request_withdrawal), from the state read with the lock.
    """
    if payment_method is None:
        return None
    method_id = getattr(payment_method, "pk", payment_method)
    try:
        method_id = method_id if isinstance(method_id, uuid.UUID) else uuid.UUID(str(method_id))
    except ValueError:
        method_id, method = str(method_id), None
    else:
        method = PaymentMethod.objects.filter(player_id=player.pk, pk=method_id).first()
    if method is None:
        raise NotFound("No such payment method.", payment_method=str(method_id))
    return method


def approve_withdrawal(withdrawal, *, actor: Actor, reason: str = "") -> Withdrawal:
    """Approve a requested withdrawal; once it has the approvals it needs, release it for payout.

    Four-eyes rule: at or above the tenant's four_eyes_amount for the currency, two
    different finance operators must approve, and nobody approves a withdrawal they
    requested or approved already. Until the second approval the withdrawal stays
    `requested` ("awaiting second approval"). The money stays held throughout. Refused while
    the player owes the casino (PLAYER_ACCOUNT_RESTRICTED): reject it instead, which repays.
    """
    reason = ensure_reason(actor, reason)
    with transaction.atomic():
        withdrawal = lock_withdrawal(withdrawal)
        if withdrawal.state != WithdrawalState.REQUESTED:
            # Approving an approved withdrawal is a no-op; any other state is refused.
            apply_transition(UnitOfWork(), withdrawal, "approve", actor=actor, reason=reason)
            return withdrawal
        ensure_tenant_active(withdrawal.tenant)
        protection.ensure_not_restricted(withdrawal.player_id)
        uow = UnitOfWork()
        if actor.type == ActorType.OPERATOR:
            approvals, required = _record_approval(uow, withdrawal, actor=actor, reason=reason)
            if approvals < required:
                record_event(
                    tenant=withdrawal.tenant_id,
                    actor=actor,
                    action="withdrawal.approval_recorded",
                    target=withdrawal,
                    reason=reason,
                    before=withdrawal.state,
                    after=withdrawal.state,
                    data={"approvals": approvals, "required": required},
                    uow=uow,
                )
                uow.flush()
                return withdrawal
        apply_transition(uow, withdrawal, "approve", actor=actor, reason=reason)
        enqueue_payout_dispatch(withdrawal.pk)
        uow.flush()
        return withdrawal


def approvals_required(withdrawal: Withdrawal) -> int:
    """2 at or above the tenant's four-eyes amount for the currency, else 1."""
    currency_limits = limits.currency_limits(withdrawal.tenant, withdrawal.currency)
    threshold = currency_limits.four_eyes_amount if currency_limits else None
    return 2 if threshold is not None and withdrawal.amount >= threshold else 1


def _record_approval(uow: UnitOfWork, withdrawal: Withdrawal, *, actor: Actor, reason: str) -> tuple[int, int]:
    """Check separation of duties and queue this operator's approval; returns (approvals, required)."""
    _ensure_not_requester(withdrawal, actor, "approve")
    earlier = set(WithdrawalApproval.objects.filter(withdrawal=withdrawal).values_list("operator_id", flat=True))
    if actor.user_id in earlier:
        raise FourEyesViolation(
            "You already approved this withdrawal; a second, different operator must approve it.",
            approvals=len(earlier),
            required=approvals_required(withdrawal),
        )
    uow.insert_values(
        WithdrawalApproval,
        {"withdrawal_id": withdrawal.pk, "operator_id": actor.user_id, "reason": reason, "created_at": uow.now},
    )
    return len(earlier) + 1, approvals_required(withdrawal)


def _ensure_not_requester(withdrawal: Withdrawal, actor: Actor, act: str) -> None:
    if actor.type == ActorType.OPERATOR and withdrawal.requested_by_id == actor.user_id:
        raise FourEyesViolation(f"You requested this withdrawal, so another operator must {act} it.")


def reject_withdrawal(withdrawal, *, actor: Actor, reason: str = "") -> Withdrawal:
    """Refuse the withdrawal (before payout, or after a failed one): held goes back to available."""
    reason = ensure_reason(actor, reason)
    with transaction.atomic():
        withdrawal = lock_withdrawal(withdrawal)
        uow = UnitOfWork()
        if apply_transition(uow, withdrawal, "reject", actor=actor, reason=reason):
            post_withdrawal_event(uow, withdrawal, LedgerEvent.WITHDRAW_RELEASED)
        uow.flush()
        return withdrawal


def cancel_withdrawal(withdrawal, *, actor: Actor, reason: str = "") -> Withdrawal:
    """The player takes back a withdrawal still awaiting review, where the casino allows it.

    With the tenant's `player_cancel_allowed` off (no reverse withdrawals, as UK rules
    require), a player's cancel is refused (WITHDRAWAL_CANCEL_DISABLED); operators still
    reject.
    """
    with transaction.atomic():
        withdrawal = lock_withdrawal(withdrawal)
        if actor.type == ActorType.PLAYER and not payment_policy(withdrawal.tenant).player_cancel_allowed:
            raise WithdrawalCancelDisabled("This casino does not let players cancel a withdrawal.")
        uow = UnitOfWork()
        if apply_transition(uow, withdrawal, "cancel", actor=actor, reason=reason):
            post_withdrawal_event(uow, withdrawal, LedgerEvent.WITHDRAW_RELEASED)
        uow.flush()
        return withdrawal


def mark_withdrawal_paid(withdrawal, *, actor: Actor, reason: str = "") -> Withdrawal:
    """Record a payout made outside the provider: the held money leaves the wallet.

    The operator who pays by hand must be neither the requester nor an approver.
    """
    reason = ensure_reason(actor, reason)
    with transaction.atomic():
        withdrawal = lock_withdrawal(withdrawal)
        if withdrawal.state != WithdrawalState.PAID:
            ensure_tenant_active(withdrawal.tenant)
            _ensure_not_approver(withdrawal, actor)
            protection.ensure_not_restricted(withdrawal.player_id)
        uow = UnitOfWork()
        if apply_transition(uow, withdrawal, "mark_paid", actor=actor, reason=reason, changes={"paid_at": uow.now}):
            post_withdrawal_event(uow, withdrawal, LedgerEvent.WITHDRAW_PAID)
        uow.flush()
        return withdrawal


def _ensure_not_approver(withdrawal: Withdrawal, actor: Actor) -> None:
    """Whoever pays by hand must be neither the requester nor an approver."""
    if actor.type != ActorType.OPERATOR:
        return
    _ensure_not_requester(withdrawal, actor, "mark it paid")
    if WithdrawalApproval.objects.filter(withdrawal=withdrawal, operator_id=actor.user_id).exists():
        raise FourEyesViolation("You approved this withdrawal, so another operator must mark it paid.")
