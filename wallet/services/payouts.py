"""The withdrawal's payout transitions: start, retry, succeeded, failed, and the attempt's bookkeeping.

They follow the rules of every wallet service: one transaction, the withdrawal's row
lock first, then the attempt, then the wallet (mark_payout_accepted, which changes no
state, is one conditional UPDATE of the attempt). The PSP is never called from here: the
payouts app claims an attempt with these functions (claim_payout: opened and counted as
sent in one commit), calls the PSP, and records the outcome with them in a new
transaction.
"""

from dataclasses import dataclass
from functools import cache

from django.db import connection, transaction
from django.utils import timezone

from core import sql
from core.actors import Actor
from core.audit import record_event, record_in_own_transaction
from core.errors import NotFound
from core.sql import lock_row
from core.tasks import send_task_on_commit
from core.unit_of_work import UnitOfWork
from tenants.models import PaymentPolicy, Tenant
from tenants.selectors import payment_policy
from wallet import protection
from wallet.errors import (
    IllegalTransactionStateTransition,
    PayoutCooldownActive,
    PayoutOutcomeConflict,
    PayoutRetryLimitReached,
    PlayerAccountRestricted,
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
            made = _ensure_attempts_left(withdrawal)
            return _open_attempt(withdrawal, "start_payout", actor=actor, provider=provider, reason="", made=made)
    except PayoutRetryLimitReached as refusal:
        _audit_payout_refusal(withdrawal, refusal, actor=actor)
        raise


@dataclass(frozen=True)
class PayoutClaim:
    """What the dispatcher may do with a withdrawal's payout attempt.

    `send`: the attempt was counted as sent in the claim's transaction; call the PSP now.
    Otherwise it was sent before (ask the PSP about it first) or its casino is suspended.
    """

    attempt: PayoutAttempt
    send: bool


def claim_payout(withdrawal, *, actor: Actor, provider: str = "") -> PayoutClaim | None:
    """Take a withdrawal's payout for sending, in one transaction under the withdrawal's lock.

    Approved: opens attempt N (-> payout_pending) already counted as sent (dispatch_count
    1, outcome unknown until the PSP answers), with the audit events of both steps: what
    start_payout and mark_payout_sending write, committed once. Payout pending with an
    attempt never sent (opened by a retry): counts it as sent. Either way the commit comes
    before the PSP call, so a crash after it means asking the PSP first, never a blind
    resend. An attempt sent before, or one of a suspended casino, is returned with
    send=False. None when there is nothing to pay out.

    Three statements on the dispatcher's path: the lock, one read of what the decision
    needs (tenant, policy, attempts), and the unit of work's write.
    """
    try:
        with transaction.atomic():
            withdrawal = lock_withdrawal(withdrawal)
            if withdrawal.state not in (WithdrawalState.APPROVED, WithdrawalState.PAYOUT_PENDING):
                return None
            policy, made, pending = _claim_facts(withdrawal)
            if withdrawal.state == WithdrawalState.PAYOUT_PENDING:
                if pending is None or pending.dispatch_count or not withdrawal.tenant.is_active:
                    return None if pending is None else PayoutClaim(pending, send=False)
                uow = UnitOfWork()
                _count_as_sent(uow, pending)
                uow.update(pending, ("dispatch_count", "dispatched_at", "outcome_unknown"))
                _audit_sent(uow, pending, actor=actor)
                uow.flush()
                return PayoutClaim(pending, send=True)
            ensure_tenant_active(withdrawal.tenant)
            _check_attempts_left(made, policy.payout_retry_limit)
            attempt = _open_attempt(
                withdrawal, "start_payout", actor=actor, provider=provider, reason="", made=made, sent=True
            )
            return PayoutClaim(attempt, send=True)
    except PayoutRetryLimitReached as refusal:
        _audit_payout_refusal(withdrawal, refusal, actor=actor)
        raise


@cache
def _claim_facts_query() -> str:
    attempts = PayoutAttempt._meta.db_table
    return (
        f"SELECT {sql.select_list(Tenant, 't')}, {sql.select_list(PaymentPolicy, 'pp')}, "
        f"{sql.select_list(PayoutAttempt, 'pa')}, "
        f"(SELECT count(*) FROM {attempts} n WHERE n.withdrawal_id = %s) "
        f"FROM {Tenant._meta.db_table} t LEFT JOIN {PaymentPolicy._meta.db_table} pp ON pp.tenant_id = t.id "
        f"LEFT JOIN {attempts} pa ON pa.withdrawal_id = %s AND pa.status = %s "
        "WHERE t.id = %s"
    )


def _claim_facts(withdrawal: Withdrawal) -> tuple[PaymentPolicy, int, PayoutAttempt | None]:
    """The tenant (set on the withdrawal), its policy, the attempts made and the pending one.

    A statement of its own after the lock, so it sees what the previous holder of the lock
    committed (an attempt it opened), which a join in the locking statement would not.
    """
    with connection.cursor() as cursor:
        cursor.execute(_claim_facts_query(), [withdrawal.pk, withdrawal.pk, Status.PENDING, withdrawal.tenant_id])
        row = cursor.fetchone()
    tenant = sql.instance_from(Tenant, row)
    offset = sql.width(Tenant)
    policy = sql.instance_from(PaymentPolicy, row, offset) or PaymentPolicy(tenant=tenant)
    offset += sql.width(PaymentPolicy)
    pending = sql.instance_from(PayoutAttempt, row, offset)
    withdrawal.tenant = tenant
    return policy, row[-1], pending


def retry_payout(withdrawal, *, actor: Actor, reason: str = "", provider: str = "") -> PayoutAttempt:
    """Open a new attempt for a withdrawal whose last payout failed (-> payout_pending), then dispatch it.

    Bounded by the tenant's retry limit (attempts per withdrawal) and cooldown (least
    time since the previous attempt), for operators and automatic retries alike. Refused while the
    player owes the casino after a chargeback (PLAYER_ACCOUNT_RESTRICTED): an operator rejects it.
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
            # A failed payout's money is still held here: while the player owes the casino after a
            # chargeback it is not sent again (rejecting it repays what is owed).
            protection.ensure_not_restricted(withdrawal.player_id)
            made = _ensure_attempts_left(withdrawal)
            _ensure_cooled_down(withdrawal)
            attempt = _open_attempt(
                withdrawal, "retry_payout", actor=actor, provider=provider, reason=reason, made=made
            )
            enqueue_payout_dispatch(withdrawal.pk)
            return attempt
    except (PayoutRetryLimitReached, PayoutCooldownActive, PlayerAccountRestricted) as refusal:
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


def record_payout_returned(attempt, *, actor: Actor, reason: str = "", provider_reference: str = "") -> Withdrawal:
    """The bank sent a paid payout back (paid -> returned): the amount is available again, receivable first.

    The attempt stays `succeeded` (it did pay; the return is a later event of its own). A return
    of an attempt whose success has not reached us yet records the success first (with the PSP's
    payout id the return carries, `provider_reference`). Refused for an
    attempt recorded as failed (PAYOUT_OUTCOME_CONFLICT, audited), and for a withdrawal that is not
    paid (ILLEGAL_TRANSACTION_STATE_TRANSITION); returning a returned one is a no-op.
    """
    try:
        with transaction.atomic():
            locked, withdrawal = _lock_attempt(attempt)
            if locked.status == Status.FAILED:
                raise _conflict(locked, reported="returned")
            if locked.status == Status.PENDING:  # the return overtook the success
                record_payout_succeeded(locked, actor=actor, provider_reference=provider_reference)
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
        _count_as_sent(uow, locked)
        uow.update(locked, ("dispatch_count", "dispatched_at", "outcome_unknown"))
        _audit_sent(uow, locked, actor=actor)
        uow.flush()
        return locked


def mark_payout_accepted(attempt, *, actor: Actor, provider_reference: str = "") -> None:
    """The PSP has the payout and will report its outcome: no longer unknown.

    One conditional UPDATE of the attempt alone, in autocommit: it changes no state of
    the withdrawal and writes no audit event, so it needs neither the withdrawal's lock
    nor a read first. An attempt finished meanwhile (its webhook came first) is left as
    it is.
    """
    table = PayoutAttempt._meta.db_table
    changes, params = "outcome_unknown = false, last_error = '', updated_at = %s", [timezone.now()]
    if provider_reference:
        changes, params = changes + ", provider_reference = %s", [*params, provider_reference]
        only = ""
    else:
        only = " AND outcome_unknown"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {changes} WHERE id = %s AND status = %s{only}",
            [*params, getattr(attempt, "pk", attempt), Status.PENDING],
        )


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


def _ensure_attempts_left(withdrawal: Withdrawal) -> int:
    """The number of attempts made so far, if one more is allowed."""
    made = withdrawal.payout_attempts.count()
    _check_attempts_left(made, payment_policy(withdrawal.tenant).payout_retry_limit)
    return made


def _check_attempts_left(made: int, limit: int) -> None:
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
    withdrawal: Withdrawal,
    transition: str,
    *,
    actor: Actor,
    provider: str,
    reason: str,
    made: int,
    sent: bool = False,
) -> PayoutAttempt:
    """Attempt number `made` + 1 (-> payout_pending); `sent`: counted as sent to the PSP at once."""
    uow = UnitOfWork()
    number = made + 1
    attempt = PayoutAttempt(tenant_id=withdrawal.tenant_id, withdrawal=withdrawal, number=number, provider=provider)
    if sent:
        _count_as_sent(uow, attempt)
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
    if sent:
        _audit_sent(uow, attempt, actor=actor)
    uow.flush()
    return attempt


def _count_as_sent(uow: UnitOfWork, attempt: PayoutAttempt) -> None:
    """About to go to the PSP: one more send, outcome unknown until the PSP answers (the
    caller writes the row and audits it with _audit_sent)."""
    attempt.dispatch_count += 1
    attempt.dispatched_at = uow.now
    attempt.outcome_unknown = True


def _audit_sent(uow: UnitOfWork, attempt: PayoutAttempt, *, actor: Actor) -> None:
    record_event(
        tenant=attempt.tenant_id,
        actor=actor,
        action="payout_attempt.sent",
        target=attempt,
        data={"withdrawal": str(attempt.withdrawal_id), "dispatch": attempt.dispatch_count},
        uow=uow,
    )


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
