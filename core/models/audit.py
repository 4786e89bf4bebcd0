"""The append-only audit trail and the actor who caused each change."""

import pgtrigger
from django.conf import settings
from django.db import models

from core.actors import ActorType
from core.unit_of_work import written_by_unit_of_work


class ActorFields(models.Model):
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,  # append-only history may outlive nothing it names; see docs/data-model.md
    )
    actor_label = models.CharField(max_length=150, blank=True)

    class Meta:
        abstract = True

    @property
    def actor_display(self) -> str:
        return f"{self.get_actor_type_display()}: {self.actor_label}" if self.actor_label else self.actor_type


@written_by_unit_of_work
class AuditEvent(ActorFields):
    """One thing that happened, written in the same transaction as the change itself.

    UPDATE and DELETE are refused by a database trigger: the trail can only grow.
    """

    # The tenant's id (None: platform-level events). A plain column: the platform layer
    # knows no tenant model, and the append-only trail outlives nothing it names.
    tenant_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    before_state = models.CharField(max_length=32, blank=True)
    after_state = models.CharField(max_length=32, blank=True)
    data = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "wallet_auditevent"  # its table since before the platform layer had its own app
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant_id", "-created_at"], name="audit_tenant_time"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["tenant_id", "action", "-created_at"], name="audit_tenant_action"),
        ]
        triggers = [
            pgtrigger.Protect(name="audit_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"
