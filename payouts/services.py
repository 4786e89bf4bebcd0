"""Payout services: start a payout, record its outcome, retry a failed one.

They change the withdrawal's state, so they follow the wallet services' rules: one
transaction, the withdrawal's row lock first, then the attempt, then the wallet. The
PSP itself is never called from here: callers claim the attempt with these
functions, commit, call the PSP, and record the outcome in a new transaction.
"""

import logging

from django.db import transaction
from django.utils import timezone

from payouts.errors import PayoutOutcomeConflict
from payouts.models import PayoutAttempt
from tenants.selectors import payment_policy
from wallet.audit import record_event, record_refusal
from wallet.errors import IllegalTransition, NotFound, PayoutCooldownActive, PayoutRetryLimitReached
from wallet.models import Actor, Withdrawal, WithdrawalState
from wallet.services.common import ensure_reason, ensure_tenant_active, lock_withdrawal
from wallet.services.withdrawals import settle_paid
from wallet.sql import lock_row
from wallet.transitions import apply_transition
from wallet.unit_of_work import UnitOfWork

Status = PayoutAttempt.Status
log = logging.getLogger(__name__)


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
                raise IllegalTransition(
                    tx_type=Withdrawal.TX_TYPE,
                    from_state=withdrawal.state,
                    to_state=WithdrawalState.PAYOUT_PENDING,
                    detail=f"Only an approved withdrawal can start its payout; this one is {withdrawal.state}.",
                )
            ensure_tenant_active(withdrawal.tenant)
            _ensure_attempts_left(withdrawal, actor=actor)
            return _open_attempt(withdrawal, "start_payout", actor=actor, provider=provider, reason="")
    except PayoutRetryLimitReached as refusal:
        _audit_payout_refusal(withdrawal, refusal, actor=actor)
        raise


def retry_payout(withdrawal, *, actor: Actor, reason: str = "", provider: str = "") -> PayoutAttempt:
    """Open a new attempt for a withdrawal whose last payout failed (-> payout_pending).

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
                raise IllegalTransition(
                    tx_type=Withdrawal.TX_TYPE, from_state=withdrawal.state, to_state=WithdrawalState.PAYOUT_PENDING
                )
            ensure_tenant_active(withdrawal.tenant)
            _ensure_attempts_left(withdrawal, actor=actor)
            _ensure_cooled_down(withdrawal)
            attempt = _open_attempt(withdrawal, "retry_payout", actor=actor, provider=provider, reason=reason)
            transaction.on_commit(lambda: _enqueue_dispatch(withdrawal.pk))
            return attempt
    except (PayoutRetryLimitReached, PayoutCooldownActive) as refusal:
        _audit_payout_refusal(withdrawal, refusal, actor=actor)
        raise


def _enqueue_dispatch(withdrawal_id) -> None:
    """After the new attempt commits, the payout worker sends it (payouts.tasks).

    If the broker is down the decision stands (it is committed); the poller
    (payouts.poll_pending_payouts) sends the attempt once the broker is back.
    """
    from payouts.tasks import dispatch_payout

    try:
        dispatch_payout.delay(str(withdrawal_id))
    except Exception:  # noqa: BLE001 - never turn a committed decision into an error
        log.exception("Could not queue the payout of %s; the poller will send it", withdrawal_id)


def _audit_payout_refusal(withdrawal: Withdrawal, refusal, *, actor: Actor) -> None:
    record_refusal(
        tenant=withdrawal.tenant_id,
        actor=actor,
        action="payout.retry_refused",
        target=withdrawal,
        reason=refusal.detail,
        data={"error_code": refusal.error_code, **refusal.problem_fields()},
    )


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
            settle_paid(uow, withdrawal)
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


def _lock_attempt(attempt) -> tuple[PayoutAttempt, Withdrawal]:
    pk = getattr(attempt, "pk", attempt)
    withdrawal_id = PayoutAttempt.objects.filter(pk=pk).values_list("withdrawal_id", flat=True).first()
    if withdrawal_id is None:
        raise NotFound("No such payout attempt.")
    withdrawal = lock_withdrawal(withdrawal_id)
    return lock_row(PayoutAttempt, "id = %s", [pk]), withdrawal


def _pending_attempt(withdrawal: Withdrawal) -> PayoutAttempt:
    return withdrawal.payout_attempts.get(status=Status.PENDING)


def _ensure_attempts_left(withdrawal: Withdrawal, *, actor: Actor) -> None:
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
    record_refusal(
        tenant=stored.tenant_id,
        actor=actor,
        action="payout_attempt.conflicting_outcome",
        target=stored,
        reason=conflict.detail,
        data={"error_code": conflict.error_code, **conflict.problem_fields()},
    )


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
        locked.dispatch_count += 1
        locked.dispatched_at = timezone.now()
        locked.outcome_unknown = True
        locked.save(update_fields=["dispatch_count", "dispatched_at", "outcome_unknown", "updated_at"])
        record_event(
            tenant=locked.tenant_id,
            actor=actor,
            action="payout_attempt.sent",
            target=locked,
            data={"withdrawal": str(locked.withdrawal_id), "dispatch": locked.dispatch_count},
        )
        return locked


def mark_payout_accepted(attempt, *, actor: Actor, provider_reference: str = "") -> PayoutAttempt:
    """The PSP has the payout and will report its outcome: no longer unknown."""
    with transaction.atomic():
        locked, _ = _lock_attempt(attempt)
        if locked.status == Status.PENDING and (locked.outcome_unknown or provider_reference):
            locked.outcome_unknown = False
            locked.last_error = ""
            if provider_reference:
                locked.provider_reference = provider_reference
            locked.save(update_fields=["outcome_unknown", "last_error", "provider_reference", "updated_at"])
        return locked


def note_payout_error(attempt, *, error: str) -> None:
    """Keep the last transport error on the attempt for operators; changes no state."""
    PayoutAttempt.objects.filter(pk=getattr(attempt, "pk", attempt)).update(
        last_error=error[:1000], updated_at=timezone.now()
    )
