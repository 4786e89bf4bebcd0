"""Responsible gambling: the limits a player sets, exclusions (breaks, self-exclusion, operator
blocks) and the sandbox stand-in for a national exclusion register (ARCHITECTURE section 13)."""

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import ActorFields
from core.money import CURRENCY_CHOICES


class LimitKind(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit limit")
    LOSS = "loss", _("Loss limit")


class LimitPeriod(models.TextChoices):
    """Rolling windows ending now, not calendar periods."""

    DAY = "day", _("24 hours")
    WEEK = "week", _("7 days")
    MONTH = "month", _("30 days")

    @property
    def window(self) -> timedelta:
        return {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}[self.value]


class PlayerLimit(models.Model):
    """A limit the player set on themselves, in one currency, for one kind and period.

    `amount` is the limit in force (None: none). A raise or a removal does not apply at
    once: it waits in `pending_*` until `pending_effective_at` (the tenant's cooling-off),
    and the lower limit stays in force until then. Whether a pending change is due is
    decided by the clock at each read (players.limits.in_force), so the boundary is exact.
    """

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="limits")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    kind = models.CharField(max_length=8, choices=LimitKind.choices)
    period = models.CharField(max_length=8, choices=LimitPeriod.choices)
    amount = models.BigIntegerField(null=True, blank=True, help_text="Minor units; None: no limit in force.")
    pending = models.BooleanField(default=False, help_text="A raise or removal waits for its cooling-off.")
    pending_amount = models.BigIntegerField(null=True, blank=True, help_text="Minor units; None: the removal.")
    pending_effective_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["currency", "kind", "period"]
        constraints = [
            models.UniqueConstraint(fields=["player", "currency", "kind", "period"], name="player_limit_once"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="player_limit_positive"),
            models.CheckConstraint(
                condition=Q(pending=False) | Q(pending_effective_at__isnull=False), name="player_limit_pending_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} limit per {self.period} in {self.currency} for player {self.player_id}"


class Exclusion(ActorFields):
    """A time the player may not deposit or play: a break, a self-exclusion or an operator's block.

    Active from `starts_at` until `ends_at` (None: permanent) unless lifted; it ends by
    itself at `ends_at`. Only an operator block can be lifted, and only by an operator;
    nobody shortens or lifts the player's own.
    """

    class Kind(models.TextChoices):
        TIMEOUT = "timeout", _("Time-out")
        SELF_EXCLUSION = "self_exclusion", _("Self-exclusion")
        OPERATOR_BLOCK = "operator_block", _("Operator block")
        REGISTER = "register", _("National exclusion register")

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="exclusions")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text="None: permanent.")
    reason = models.TextField(blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by_label = models.CharField(max_length=150, blank=True)
    lift_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["player", "-starts_at"], name="exclusion_player_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="exclusion_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True) | Q(kind="operator_block"), name="exclusion_only_blocks_lift"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of player {self.player_id}"

    def is_active(self, now) -> bool:
        return self.lifted_at is None and self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


class RegisterListing(models.Model):
    """The sandbox exclusion register's list (a stand-in for a national register such as GAMSTOP).

    A player is listed by the register's own key: here the player's external reference,
    or their username when the platform gives none.
    """

    key = models.CharField(max_length=150, unique=True)
    listed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"register listing {self.key}"
