"""Refusals of one kind from one address in one open minute: the audit trail's aggregate in the making."""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from core.actors import ActorType


class RefusalTally(models.Model):
    """One (action, source address, minute) while the minute is open; see core/refusals.py.

    Mutable on purpose, unlike the audit trail: each refusal that reaches the database adds
    one to `count` with a single UPSERT, and the first refusal's details stay. Once the
    minute has closed, `core.refusals.flush_closed` deletes the row and writes ONE audit
    event with the final count in the same transaction. So the table holds at most one row
    per address and action for each minute not yet flushed, and the audit trail gains at
    most one event per address, action and minute.
    """

    action = models.CharField(max_length=64, help_text="The audit action of the aggregate, e.g. webhook.refused.")
    source = models.CharField(max_length=64, help_text='The client address, or "unknown".')
    minute = models.DateTimeField(help_text="The start of the minute (UTC).")
    count = models.PositiveIntegerField(default=1, help_text="Refusals answered as such (not those answered 429).")
    # Distinct tenants the refusals named (0: none known). One tenant: the event is that
    # tenant's; several, or one unknown: a platform-level event listing them.
    tenant_ids = ArrayField(models.BigIntegerField(), default=list)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_label = models.CharField(max_length=150, blank=True)
    reason = models.TextField(blank=True, help_text="The first refusal's.")
    details = models.JSONField(default=dict, blank=True, help_text="The first refusal's (webhook-id, username ...).")
    request_id = models.CharField(max_length=64, blank=True, help_text="The first refusal's.")
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action", "source", "minute"], name="refusal_tally_per_minute"),
        ]
        indexes = [models.Index(fields=["minute"], name="refusal_tally_minute")]

    def __str__(self) -> str:
        return f"{self.action} from {self.source} at {self.minute:%H:%M}: {self.count}"
