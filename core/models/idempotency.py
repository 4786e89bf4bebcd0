"""Stored outcomes of POST requests that carried an Idempotency-Key."""

from datetime import timedelta

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """One (tenant, caller, operation, key): the request's fingerprint and, once done, its response.

    While the first request runs, its transaction holds this row's lock; a duplicate
    that cannot take the lock at once answers 409. A request that crashed leaves the
    row unlocked and without a response, so a retry runs it again safely (the crash
    rolled back everything the first attempt did).
    """

    TTL = timedelta(hours=24)

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    # Short-lived and high-volume: no database constraint to the user row.
    tenant_id = models.BigIntegerField(help_text="The tenant the caller acts for (0: a platform user).")
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    operation = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and canonical body.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The exact bytes sent, so a replay is identical.")
    response_content_type = models.CharField(max_length=64, blank=True)
    recovery_point = models.CharField(
        max_length=64, blank=True, help_text="Phased operations: what the first try already committed (an id)."
    )
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "wallet_idempotencyrecord"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "caller", "operation", "key"], name="idempotency_key_scope")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"
