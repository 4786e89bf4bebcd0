"""Celery tasks of the payout path. Each loads by id and calls dispatch or the services.

acks_late: a task is acknowledged only when it finished, so a worker killed in the
middle leaves it on the queue and another worker runs it again; the attempt's
idempotency key makes that second run safe.
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.actors import Actor
from core.errors import DomainError
from payouts import dispatch
from payouts.checkout import start_checkout
from payouts.providers import ProviderError
from tenants.models import PaymentPolicy
from wallet.errors import PayoutCooldownActive
from wallet.models import Deposit, DepositState, PayoutAttempt, Withdrawal, WithdrawalState
from wallet.services import fail_deposit

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300
# The database went away mid-task (restart, failover, a dropped connection): the task's
# transaction rolled back, so running it again is safe. Not retried, the task would be
# recorded as failed and acknowledged, and its payout or automatic retry lost.
DATABASE_GONE = (OperationalError, InterfaceError)


def backoff(retries: int) -> int:
    """2, 4, 8 ... seconds, capped at five minutes."""
    return min(2 ** (retries + 1), MAX_BACKOFF_SECONDS)


@shared_task(bind=True, name="payouts.dispatch_payout", acks_late=True, max_retries=25)
def dispatch_payout(self, withdrawal_id: str) -> str:
    try:
        return dispatch.dispatch_payout(withdrawal_id)
    except ProviderError as error:
        log.info("PSP not reached for %s (%s); retrying", withdrawal_id, error)
        raise self.retry(exc=error, countdown=backoff(self.request.retries)) from None
    except DATABASE_GONE as error:
        log.warning("Database unavailable during the payout of %s (%s); retrying", withdrawal_id, error)
        raise self.retry(exc=error, countdown=backoff(self.request.retries)) from None
    except DomainError as refusal:
        log.warning("Payout of %s stopped: %s", withdrawal_id, refusal.detail)
        return f"stopped: {refusal.error_code}"


@shared_task(bind=True, name="payouts.retry_failed_payout", acks_late=True, max_retries=25)
def retry_failed_payout(self, withdrawal_id: str) -> str:
    try:
        return dispatch.retry_failed(withdrawal_id)
    except PayoutCooldownActive as wait:
        raise self.retry(countdown=wait.fields.get("retry_after_seconds", 5)) from None
    except DATABASE_GONE as error:
        log.warning("Database unavailable during the payout retry of %s (%s); retrying", withdrawal_id, error)
        raise self.retry(exc=error, countdown=backoff(self.request.retries)) from None


@shared_task(name="payouts.poll_pending_payouts")
def poll_pending_payouts(batch: int = 200) -> int:
    """Move forward payouts that went quiet: sent but no outcome, approved but never sent, or
    failed with attempts left whose automatic retry was lost (a crash or broker outage
    between recording the failure and queueing the retry)."""
    quiet_since = timezone.now() - timedelta(seconds=settings.PAYOUT_POLL_AFTER_SECONDS)
    pending = (
        PayoutAttempt.objects.filter(status=PayoutAttempt.Status.PENDING)
        .filter(Q(dispatched_at__lt=quiet_since) | Q(dispatched_at__isnull=True, created_at__lt=quiet_since))
        .values_list("withdrawal_id", flat=True)[:batch]
    )
    unsent = Withdrawal.objects.filter(state=WithdrawalState.APPROVED, updated_at__lt=quiet_since).values_list(
        "id", flat=True
    )[:batch]
    ids = {str(pk) for pk in pending} | {str(pk) for pk in unsent}
    for withdrawal_id in ids:
        dispatch_payout.delay(withdrawal_id)
    retries = _failed_with_attempts_left(quiet_since, batch)
    for withdrawal_id in retries:
        retry_failed_payout.delay(withdrawal_id)  # the service's limit and cooldown still apply
    return len(ids) + len(retries)


def _failed_with_attempts_left(quiet_since, batch: int) -> list[str]:
    """payout_failed withdrawals whose last attempt failed retryably a while ago, below the limit."""
    last_attempt = PayoutAttempt.objects.filter(withdrawal=OuterRef("pk")).order_by("-number")
    rows = (
        Withdrawal.objects.filter(state=WithdrawalState.PAYOUT_FAILED, updated_at__lt=quiet_since)
        .annotate(
            attempts=Count("payout_attempts"),
            last_retryable=Subquery(last_attempt.values("retryable")[:1]),
            retry_limit=Subquery(
                PaymentPolicy.objects.filter(tenant_id=OuterRef("tenant_id")).values("payout_retry_limit")[:1]
            ),
        )
        .filter(last_retryable=True, attempts__lt=Coalesce(F("retry_limit"), Value(3)))
        .values_list("id", flat=True)[:batch]
    )
    return [str(pk) for pk in rows]


@shared_task(name="payouts.sweep_open_deposits")
def sweep_open_deposits(batch: int = 200) -> int:
    """Deposits left behind: hand `created` ones to the PSP again, expire stale pending ones."""
    now = timezone.now()
    moved = 0
    stranded = Deposit.objects.filter(state=DepositState.CREATED, created_at__lt=now - timedelta(minutes=5))
    for deposit in stranded[:batch]:
        try:
            start_checkout(deposit)
            moved += 1
        except ProviderError as error:
            log.info("Deposit %s still not at the PSP: %s", deposit.reference, error)
    expired = Deposit.objects.filter(
        state=DepositState.PENDING_PROVIDER,
        updated_at__lt=now - timedelta(seconds=settings.DEPOSIT_EXPIRY_SECONDS),
    )
    for deposit in expired[:batch]:
        fail_deposit(deposit, actor=Actor.system("deposit-sweeper"), reason="Checkout expired without payment")
        moved += 1
    return moved
