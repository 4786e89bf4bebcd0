"""Sending payouts to the PSP: claim under lock, commit, call, record the answer.

Each step that changes state is a service call with its own transaction; the PSP is
called between them, never while a row lock is held. The attempt's id is the PSP
idempotency key, so sending it again (a retried task, a worker killed mid-call)
cannot pay twice. Once an attempt was sent, nothing happens to it before the PSP is
asked what became of it: an unknown outcome is never answered with a new attempt.
"""

import logging

from core.actors import Actor
from core.errors import DomainError
from core.tasks import send_task_on_commit
from payouts.models import ProviderAccount
from payouts.providers import PayoutStatus, ProviderRejected, provider_for
from payouts.selectors import withdrawal_to_pay_out
from tenants.selectors import payment_policy
from wallet import services
from wallet.errors import PayoutCooldownActive
from wallet.models import PaymentMethod, PayoutAttempt, Withdrawal, WithdrawalState

log = logging.getLogger(__name__)

DISPATCHER = Actor.system("payout-dispatcher")
RETRY_TASK = "payouts.retry_failed_payout"  # payouts.tasks, which imports this module


def dispatch_payout(withdrawal_id) -> str:
    """Move one withdrawal's payout forward; returns what happened (for logs and tests).

    ProviderUnavailable and ProviderTimeout propagate: the task retries with backoff,
    and the next run asks the PSP before sending anything.
    """
    withdrawal, account = withdrawal_to_pay_out(withdrawal_id)
    if account is None:
        return "no provider account: pay it manually"
    claim = _claim(withdrawal, account)
    if claim is None:
        return f"nothing to send ({withdrawal.state})"
    attempt = claim.attempt
    provider = provider_for(account)
    key = str(attempt.pk)
    if not claim.send:
        # A suspended casino makes no payouts; what is already at the PSP is still asked about.
        if not attempt.dispatch_count:
            return "not sent: the tenant is suspended"  # the claim's reason for an unsent attempt
        known = provider.fetch_payout(idempotency_key=key)
        if known.status != PayoutStatus.NOT_FOUND:
            return record_status(attempt, known, actor=Actor.psp(provider.name))
        if not withdrawal.tenant.is_active:
            return "not sent: the tenant is suspended"
        attempt = services.mark_payout_sending(attempt, actor=DISPATCHER)
        if attempt is None:
            return "attempt already finished"
    try:
        answer = provider.create_payout(
            idempotency_key=key,
            amount=withdrawal.amount,
            currency=withdrawal.currency,
            reference=withdrawal.reference,
            destination=destination_of(withdrawal),
        )
    except ProviderRejected as refusal:
        services.record_payout_failed(
            attempt, actor=Actor.psp(provider.name), reason=f"Refused by the PSP: {refusal}", retryable=False
        )
        return "rejected by the PSP"
    except Exception as error:
        services.note_payout_error(attempt, error=f"{type(error).__name__}: {error}")
        raise
    return record_status(attempt, answer, actor=Actor.psp(provider.name))


def destination_of(withdrawal: Withdrawal) -> str:
    """The PSP token of the withdrawal's payment method; empty for a withdrawal without one."""
    if withdrawal.payment_method_id is None:
        return ""
    return PaymentMethod.objects.values_list("token", flat=True).get(pk=withdrawal.payment_method_id)


def _claim(withdrawal: Withdrawal, account: ProviderAccount) -> services.PayoutClaim | None:
    """The attempt to send, counted as sent in the same commit when it can go at once (a new
    one for an approved withdrawal, or one a retry opened); or the one sent before."""
    if withdrawal.state not in (WithdrawalState.APPROVED, WithdrawalState.PAYOUT_PENDING):
        return None
    try:
        return services.claim_payout(withdrawal, actor=DISPATCHER, provider=account.provider)
    except DomainError as refusal:  # suspended tenant, retry limit: an operator decides
        log.warning("Payout of %s not started: %s", withdrawal.reference, refusal)
        return None


def record_status(attempt: PayoutAttempt, status: PayoutStatus, *, actor: Actor) -> str:
    """Apply what the PSP said about an attempt (from its API answer or a status poll)."""
    if status.status == PayoutStatus.SUCCEEDED:
        services.record_payout_succeeded(attempt, actor=actor, provider_reference=status.provider_reference)
        return "paid"
    if status.status == PayoutStatus.FAILED:
        services.record_payout_failed(
            attempt,
            actor=actor,
            reason=status.reason or "Failed at the PSP",
            provider_reference=status.provider_reference,
        )
        schedule_automatic_retry(attempt.withdrawal_id)
        return "failed"
    services.mark_payout_accepted(attempt, actor=actor, provider_reference=status.provider_reference)
    return "accepted, outcome to follow"


def schedule_automatic_retry(withdrawal_id) -> None:
    """After a failed payout, try again once the cooldown has passed, if attempts remain."""
    withdrawal = Withdrawal.objects.select_related("tenant").get(pk=withdrawal_id)
    policy = payment_policy(withdrawal.tenant)
    if withdrawal.payout_attempts.count() >= policy.payout_retry_limit:
        return  # the operator decides: reject (release the money) or pay by hand
    # If the broker is down, the failure stays committed and the poller schedules the retry.
    send_task_on_commit(RETRY_TASK, str(withdrawal_id), countdown=max(policy.payout_cooldown_seconds, 1))


def retry_failed(withdrawal_id) -> str:
    """The automatic retry: a new attempt (bounded by limit and cooldown); the service
    queues its dispatch once the attempt is committed."""
    try:
        services.retry_payout(withdrawal_id, actor=Actor.system("automatic-retry"))
    except PayoutCooldownActive:
        raise
    except DomainError as refusal:
        return f"not retried: {refusal.detail}"
    return "new attempt opened"
