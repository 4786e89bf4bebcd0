"""Periodic housekeeping of the wallet app."""

from celery import shared_task
from django.utils import timezone

from wallet.models import IdempotencyRecord


@shared_task(name="wallet.expire_idempotency_records")
def expire_idempotency_records(batch_size: int = 5000) -> int:
    """Delete idempotency records older than 24 hours, in batches to keep locks short."""
    cutoff = timezone.now() - IdempotencyRecord.TTL
    deleted = 0
    while True:
        ids = list(IdempotencyRecord.objects.filter(created_at__lt=cutoff).values_list("id", flat=True)[:batch_size])
        if not ids:
            return deleted
        deleted += IdempotencyRecord.objects.filter(id__in=ids, created_at__lt=cutoff).delete()[0]


@shared_task(name="wallet.ping")
def ping() -> str:
    """Does nothing: a liveness probe for workers, and the baseline of the Celery benchmark."""
    return "pong"
