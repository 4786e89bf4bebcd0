"""The append-only audit trail and the actor who caused each change."""

from dataclasses import dataclass

import pgtrigger
from django.conf import settings
from django.db import models


class ActorType(models.TextChoices):
    OPERATOR = "operator", "Operator"
    PLAYER = "player", "Player"
    PSP = "psp", "Payment provider"
    SYSTEM = "system", "System"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: passed keyword-only to every service and written with each change."""

    type: str
    user: object | None = None  # a django.contrib.auth user, when there is one
    label: str = ""

    @classmethod
    def operator(cls, user) -> "Actor":
        return cls(ActorType.OPERATOR, user, user.get_username())

    @classmethod
    def player(cls, user) -> "Actor":
        return cls(ActorType.PLAYER, user, user.get_username())

    @classmethod
    def psp(cls, provider: str) -> "Actor":
        return cls(ActorType.PSP, None, provider)

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(ActorType.SYSTEM, None, label)

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)


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


class AuditEvent(ActorFields):
    """One thing that happened, written in the same transaction as the change itself.

    UPDATE and DELETE are refused by a database trigger: the trail can only grow.
    """

    tenant = models.ForeignKey(
        "tenants.Tenant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
        db_index=False,  # the (tenant, created_at) index serves it
        db_constraint=False,
    )
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
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="audit_tenant_time"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["tenant", "action", "-created_at"], name="audit_tenant_action"),
        ]
        triggers = [
            pgtrigger.Protect(name="audit_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"
