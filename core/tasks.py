"""Periodic housekeeping of the platform, and starting follow-up work by task name."""

import logging

from celery import current_app, shared_task
from django.db import transaction
from django.utils import timezone

from core import refusals
from core.models import IdempotencyRecord

log = logging.getLogger(__name__)


def send_task_on_commit(name: str, *args, countdown: int | None = None) -> None:
    """Queue Celery task `name` once the current transaction commits.

    By name, so a lower layer starts work that a higher one does (the wallet's approval
    starts the payouts app's dispatch) without importing it. If the broker is down the
    committed decision stands: the task's owner has a poller that picks the work up.
    """

    def send():
        options = {"countdown": countdown} if countdown else {}
        try:
            task = current_app.tasks.get(name)
            if task is not None:  # registered here: apply_async honours eager mode in tests
                task.apply_async(args, **options)
            else:
                current_app.send_task(name, args=args, **options)
        except Exception:  # noqa: BLE001 - never turn a committed decision into an error
            log.exception("Could not queue %s%r; its poller will pick the work up", name, args)

    transaction.on_commit(send)


@shared_task(name="core.expire_idempotency_records")
def expire_idempotency_records(batch_size: int = 5000) -> int:
    """Delete idempotency records older than 24 hours, in batches to keep locks short."""
    cutoff = timezone.now() - IdempotencyRecord.TTL
    deleted = 0
    while True:
        ids = list(IdempotencyRecord.objects.filter(created_at__lt=cutoff).values_list("id", flat=True)[:batch_size])
        if not ids:
            return deleted
        deleted += IdempotencyRecord.objects.filter(id__in=ids, created_at__lt=cutoff).delete()[0]


@shared_task(name="core.flush_refusal_tallies")
def flush_refusal_tallies() -> int:
    """Turn the refusal tallies of closed minutes into one audit event each (core/refusals.py)."""
    return refusals.flush_closed()


@shared_task(name="core.ping")
def ping() -> str:
    """Does nothing: a liveness probe for workers, and the baseline of the Celery benchmark."""
    return "pong"
