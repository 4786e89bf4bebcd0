"""The withdrawal's payout transitions: start, retry, succeeded, failed, and the attempt's bookkeeping.

They follow the rules of every wallet service: one transaction, the withdrawal's row
lock first, then the attempt, then the wallet. The PSP is never called from here: the
payouts app claims an attempt with these functions, commits, calls the PSP, and
records the outcome with them in a new transaction.
"""

from django.db import transaction
from django.utils import timezone

from core.actors import Actor
from core.audit import record_event, record_in_own_transaction
from core.errors import NotFound
from core.sql import lock_row
from core.tasks import send_task_on_commit
from core.unit_of_work import UnitOfWork
from tenants.selectors import payment_policy
from wallet.errors import (
    IllegalTransactionStateTransition,
    PayoutCooldownActive,
    PayoutOutcomeConflict,
    PayoutRetryLimitReached,
)
from wallet.models import LedgerEvent, PayoutAttempt, Withdrawal, WithdrawalState
from wallet.transitions import apply_transition

from .common import ensure_reason, ensure_tenant_active, lock_withdrawal, post_withdrawal_event

Status = PayoutAttempt.Status

# The payouts app's Celery task that sends an attempt to the PSP; sent by name so the
# wallet never imports the layer above it.
DISPATCH_TASK = "payouts.dispatch_payout"


def enqueue_payout_dispatch(withdrawal_id) -> None:
    """Once the current transaction commits, the payout worker sends the withdrawal's attempt.

    If the broker is down the decision stands; the payouts poller sends it later.
    """
    send_task_on_commit(DISPATCH_TASK, str(withdrawal_id))


def start_payout(withdrawal, *, actor: Actor, provider: str = "") -> PayoutAttempt:
    """Open the first payout attempt of an approved withdrawal (-> payout_pending).

    Called again while that attempt is in flight, it returns the same attempt.
    """
    try:
        with transaction.atomic():
            withdrawal = lock_withdrawal(withdrawal)
            if withdrawal.state == WithdrawalState.PAYOUT_PENDING:
                return _pending_attempt(withdrawal)
            if withdrawal.state != WithdrawalState.APPROVED:
                raise IllegalTransactionStateTransition(
                    tx_type=Withdrawal.TX_TYPE,
                    from_state=withdrawal.state,
                    to_state=WithdrawalState.PAYOUT_PENDING,
                    detail=f"Only an approved withdrawal can start its payout; this one is {withdrawal.state}.",
                )
            ensure_tenant_active(withdrawal.tenant)
            _ensure_attempts_left(withdrawal)
            return _open_attempt(withdrawal, "start_payout", actor=actor, provider=provider, reason="")
    except PayoutRetryLimitReached as refusal:
        _audit_payout_refusal(withdrawal, refusal, actor=actor)
        raise


def retry_payout(withdrawal, *, actor: Actor, reason: str = "", provider: str = "") -> PayoutAttempt:
    """Open a new attempt for a withdrawal whose last payout failed (-> payout_pending), then dispatch it.

    Bounded by the tenant's retry limit (attempts per withdrawal) and cooldown (least
    time since the previous attempt), for operators and automatic retries alike.
    """
    reason = ensure_reason(actor, reason)
    try:
        with transaction.atomic():
            withdrawal = lock_withdrawal(withdrawal)
            if withdrawal.state == WithdrawalState.PAYOUT_PENDING:
                return _pending_attempt(withdrawal)
            if withdrawal.state != WithdrawalState.PAYOUT_FAILED:
                raise IllegalTransactionStateTransition(
                    tx_type=Withdrawal.TX_TYPE, from_state=withdrawal.state, to_state=WithdrawalState.PAYOUT_PENDING
                )
            ensure_tenant_active(withdrawal.tenant)
            _ensure_attempts_left(withdrawal)
            _ensure_cooled_down(withdrawal)
            attempt = _open_attempt(withdrawal, "retry_payout", actor=actor, provider=provider, reason=reason)
            enqueue_payout_dispatch(withdrawal.pk)
            return attempt
    except (PayoutRetryLimitReached, PayoutCooldownActive) as refusal:
        _audit_payout_refusal(withdrawal, refusal, actor=actor)
        raise


def record_payout_succeeded(attempt, *, actor: Actor, provider_reference: str = "") -> PayoutAttempt:
    """The PSP paid: the attempt succeeds, the withdrawal is paid, held money leaves."""
    try:
        with transaction.atomic():
            locked, withdrawal = _lock_attempt(attempt)
            if locked.status == Status.SUCCEEDED:
                return locked
            if locked.status == Status.FAILED:
                raise _conflict(locked, reported=Status.SUCCEEDED)
            uow = UnitOfWork()
            apply_transition(
                uow,
                withdrawal,
                "confirm_payout",
                actor=actor,
                changes={"paid_at": uow.now},
                data={"payout_attempt": str(locked.pk)},
            )
            post_withdrawal_event(uow, withdrawal, LedgerEvent.WITHDRAW_PAID)
            _finish_attempt(uow, locked, Status.SUCCEEDED, actor=actor, provider_reference=provider_reference)
            uow.flush()
            return locked
    except PayoutOutcomeConflict as conflict:
        _audit_conflict(attempt, conflict, actor=actor)
        raise


def record_payout_failed(
    attempt, *, actor: Actor, reason: str = "", provider_reference: str = "", retryable: bool = True
) -> PayoutAttempt:
    """The PSP could not pay: the withdrawal waits in payout_failed with the money still held.

    `retryable=False` when the PSP refused the request itself (bad account, say): no
    automatic retry follows, an operator decides.
    """
    try:
        with transaction.atomic():
            locked, withdrawal = _lock_attempt(attempt)
            if locked.status == Status.FAILED:
                return locked
            if locked.status == Status.SUCCEEDED:
                raise _conflict(locked, reported=Status.FAILED)
            uow = UnitOfWork()
            apply_transition(
                uow, withdrawal, "fail_payout", actor=actor, reason=reason, data={"payout_attempt": str(locked.pk)}
            )
            locked.retryable = retryable
            _finish_attempt(
                uow, locked, Status.FAILED, actor=actor, provider_reference=provider_reference, reason=reason
            )
            uow.flush()
            return locked
    except PayoutOutcomeConflict as conflict:
        _audit_conflict(attempt, conflict, actor=actor)
        raise


def record_payout_returned(attempt, *, actor: Actor, reason: str = "") -> Withdrawal:
    """The bank sent a paid payout back (paid -> returned): the amount is available again, receivable first.

    The attempt stays `succeeded` (it did pay; the return is a later event of its own). A return
    of an attempt whose success has not reached us yet records the success first. Refused for an
    attempt recorded as failed (PAYOUT_OUTCOME_CONFLICT, audited), and for a withdrawal that is not
    paid (ILLEGAL_TRANSACTION_STATE_TRANSITION); returning a returned one is a no-op.
    """
    try:
        with transaction.atomic():
            locked, withdrawal = _lock_attempt(attempt)
            if locked.status == Status.FAILED:
                raise _conflict(locked, reported="returned")
            if locked.status == Status.PENDING:  # the return overtook the success
                record_payout_succeeded(locked, actor=actor)
                locked, withdrawal = _lock_attempt(attempt)
            uow = UnitOfWork()
            if apply_transition(
                uow,
                withdrawal,
                "return_payout",
                actor=actor,
                reason=reason,
                data={"payout_attempt": str(locked.pk), "provider_reference": locked.provider_reference},
            ):
                post_withdrawal_event(uow, withdrawal, LedgerEvent.WITHDRAW_RETURNED)
            uow.flush()
            return withdrawal
    except PayoutOutcomeConflict as conflict:
        _audit_conflict(attempt, conflict, actor=actor)
        raise


def mark_payout_sending(attempt, *, actor: Actor) -> PayoutAttempt | None:
    """Note that the attempt is about to be sent to the PSP (commit before the call).

    Until the PSP answers, the outcome is unknown: a crash or timeout after this point
    means asking the PSP before anything else. Returns None if the attempt is no
    longer pending (another worker finished it).
    """
    with transaction.atomic():
        locked, _ = _lock_attempt(attempt)
        if locked.status != Status.PENDING:
            return None
        uow = UnitOfWork()
        locked.dispatch_count += 1
        locked.dispatched_at = uow.now
        locked.outcome_unknown = True
        uow.update(locked, ("dispatch_count", "dispatched_at", "outcome_unknown"))
        record_event(
            tenant=locked.tenant_id,
            actor=actor,
            action="payout_attempt.sent",
            target=locked,
            data={"withdrawal": str(locked.withdrawal_id), "dispatch": locked.dispatch_count},
            uow=uow,
        )
        uow.flush()
        return locked


def mark_payout_accepted(attempt, *, actor: Actor, provider_reference: str = "") -> PayoutAttempt:
    """The PSP has the payout and will report its outcome: no longer unknown."""
    with transaction.atomic():
        locked, _ = _lock_attempt(attempt)
        if locked.status == Status.PENDING and (locked.outcome_unknown or provider_reference):
            uow = UnitOfWork()
            locked.outcome_unknown = False
            locked.last_error = ""
            if provider_reference:
                locked.provider_reference = provider_reference
            uow.update(locked, ("outcome_unknown", "last_error", "provider_reference"))
            uow.flush()
        return locked


def note_payout_error(attempt, *, error: str) -> None:
    """Keep the last transport error on the attempt for operators; changes no state."""
    with transaction.atomic():
        locked, _ = _lock_attempt(attempt)
        uow = UnitOfWork()
        locked.last_error = error[:1000]
        uow.update(locked, ("last_error",))
        uow.flush()


def _lock_attempt(attempt) -> tuple[PayoutAttempt, Withdrawal]:
    """Lock the attempt's withdrawal, then the attempt (the documented order)."""
    pk = getattr(attempt, "pk", attempt)
    withdrawal_id = PayoutAttempt.objects.filter(pk=pk).values_list("withdrawal_id", flat=True).first()
    if withdrawal_id is None:
        raise NotFound("No such payout attempt.")
    withdrawal = lock_withdrawal(withdrawal_id)
    return lock_row(PayoutAttempt, "id = %s", [pk]), withdrawal


def _pending_attempt(withdrawal: Withdrawal) -> PayoutAttempt:
    return withdrawal.payout_attempts.get(status=Status.PENDING)


def _ensure_attempts_left(withdrawal: Withdrawal) -> None:
    limit = payment_policy(withdrawal.tenant).payout_retry_limit
    made = withdrawal.payout_attempts.count()
    if made >= limit:
        raise PayoutRetryLimitReached(
            f"This withdrawal already had {made} payout attempts; the limit is {limit}.",
            attempts=made,
            retry_limit=limit,
        )


def _ensure_cooled_down(withdrawal: Withdrawal) -> None:
    cooldown = payment_policy(withdrawal.tenant).payout_cooldown_seconds
    last = withdrawal.payout_attempts.order_by("-number").first()
    if last is None or cooldown <= 0:
        return
    waited = (timezone.now() - last.created_at).total_seconds()
    if waited < cooldown:
        retry_after = int(cooldown - waited) + 1
        raise PayoutCooldownActive(
            f"The last payout attempt was {int(waited)} s ago; wait {retry_after} s more.",
            retry_after_seconds=retry_after,
            cooldown_seconds=cooldown,
        )


def _open_attempt(
    withdrawal: Withdrawal, transition: str, *, actor: Actor, provider: str, reason: str
) -> PayoutAttempt:
    uow = UnitOfWork()
    number = withdrawal.payout_attempts.count() + 1
    attempt = PayoutAttempt(tenant_id=withdrawal.tenant_id, withdrawal=withdrawal, number=number, provider=provider)
    uow.insert(attempt)
    apply_transition(uow, withdrawal, transition, actor=actor, reason=reason, data={"payout_attempt": str(attempt.pk)})
    record_event(
        tenant=withdrawal.tenant_id,
        actor=actor,
        action="payout_attempt.created",
        target=attempt,
        reason=reason,
        after=attempt.status,
        data={"withdrawal": str(withdrawal.pk), "number": number, "provider": provider},
        uow=uow,
    )
    uow.flush()
    return attempt


def _finish_attempt(
    uow: UnitOfWork, attempt: PayoutAttempt, status: str, *, actor: Actor, provider_reference: str, reason: str = ""
) -> None:
    before = attempt.status
    attempt.status = status
    attempt.completed_at = uow.now
    attempt.failure_reason = reason if status == Status.FAILED else ""
    attempt.outcome_unknown = False
    if provider_reference:
        attempt.provider_reference = provider_reference
    uow.update(
        attempt, ("status", "completed_at", "failure_reason", "provider_reference", "outcome_unknown", "retryable")
    )
    record_event(
        tenant=attempt.tenant_id,
        actor=actor,
        action=f"payout_attempt.{status}",
        target=attempt,
        reason=reason,
        before=before,
        after=status,
        data={"withdrawal": str(attempt.withdrawal_id), "provider_reference": attempt.provider_reference},
        uow=uow,
    )


def _audit_payout_refusal(withdrawal, refusal, *, actor: Actor) -> None:
    stored = withdrawal if isinstance(withdrawal, Withdrawal) else Withdrawal.objects.get(pk=withdrawal)
    record_in_own_transaction(
        tenant=stored.tenant_id,
        actor=actor,
        action="payout.retry_refused",
        target=stored,
        reason=refusal.detail,
        data={"error_code": refusal.error_code, **refusal.problem_fields()},
    )


def _conflict(attempt: PayoutAttempt, *, reported: str) -> PayoutOutcomeConflict:
    return PayoutOutcomeConflict(
        f"Payout attempt {attempt.number} is already {attempt.status}; the report of {reported} is not applied.",
        payout_attempt=str(attempt.pk),
        recorded=attempt.status,
        reported=reported,
    )


def _audit_conflict(attempt, conflict: PayoutOutcomeConflict, *, actor: Actor) -> None:
    """An outcome never changes once recorded; a contradicting report is kept for review."""
    stored = PayoutAttempt.objects.get(pk=getattr(attempt, "pk", attempt))
    record_in_own_transaction(
        tenant=stored.tenant_id,
        actor=actor,
        action="payout_attempt.conflicting_outcome",
        target=stored,
        reason=conflict.detail,
        data={"error_code": conflict.error_code, **conflict.problem_fields()},
    )
