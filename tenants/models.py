"""Tenants (casino brands), their payment policy and their operators."""

import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.money import CURRENCY_CHOICES, CURRENCY_EXPONENTS


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone.")


def validate_currencies(values: list[str]) -> None:
    unknown = [code for code in values if code not in CURRENCY_EXPONENTS]
    if unknown:
        raise ValidationError(f"Unknown currencies: {', '.join(unknown)}.")


class Tenant(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    allowed_currencies = ArrayField(
        models.CharField(max_length=3, choices=CURRENCY_CHOICES),
        default=list,
        validators=[validate_currencies],
        help_text="ISO 4217 codes players of this brand may hold and move.",
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Daily limits reset at midnight in this zone.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class PaymentPolicy(models.Model):
    """Rules the services enforce for every payment of one tenant.

    Amount limits differ per currency (100 EUR is not 100 JPY), so they live in
    CurrencyLimit rows; a currency without a row has no amount limits.
    """

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="policy")
    payout_retry_limit = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1)],
        help_text="Most payout attempts one withdrawal may have, automatic or manual (at least 1).",
    )
    payout_cooldown_seconds = models.PositiveIntegerField(
        default=60, help_text="Least time between two payout attempts of one withdrawal."
    )
    stuck_payout_seconds = models.PositiveIntegerField(
        default=3600, help_text="Reconciliation reports a withdrawal in payout_pending for longer than this."
    )
    stuck_deposit_seconds = models.PositiveIntegerField(
        default=86400, help_text="Reconciliation reports a deposit not yet completed or failed after this long."
    )
    # Player protection and withdrawal review (ARCHITECTURE sections 13 and 14).
    limit_increase_cooldown_hours = models.PositiveIntegerField(
        default=24, help_text="How long a player's raised or removed limit waits before it applies."
    )
    kyc_required_for_withdrawal = models.BooleanField(
        default=True, help_text="Only players with a verified identity may request a withdrawal."
    )
    player_cancel_allowed = models.BooleanField(
        default=True, help_text="Players may cancel their own withdrawal before review (reverse withdrawals)."
    )
    velocity_withdrawals_per_day = models.PositiveSmallIntegerField(
        default=3, help_text="More withdrawal requests than this in 24 hours flags the next one (velocity)."
    )
    closed_loop = models.BooleanField(
        default=True,
        db_default=True,
        help_text="Withdrawals go back to the methods that deposited, up to each one's net deposits (section 16).",
    )
    # The game wallet (ARCHITECTURE section 15).
    game_round_idle_minutes = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(1)],
        help_text="A game round without a bet, win or rollback for this long is closed: it takes no more bets.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "payment policies"
        constraints = [
            models.CheckConstraint(condition=Q(payout_retry_limit__gte=1), name="policy_retry_limit_at_least_one"),
        ]

    def __str__(self) -> str:
        return f"Payment policy of {self.tenant}"

    def limits_for(self, currency: str) -> "CurrencyLimit | None":
        return self.currency_limits.filter(currency=currency).first()


class CurrencyLimit(models.Model):
    """Per-currency amounts of a payment policy, in minor units; empty means no limit."""

    policy = models.ForeignKey(PaymentPolicy, on_delete=models.CASCADE, related_name="currency_limits")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    daily_deposit_limit = models.BigIntegerField(
        null=True, blank=True, help_text="Per player per calendar day, minor units."
    )
    daily_withdraw_limit = models.BigIntegerField(
        null=True, blank=True, help_text="Per player per calendar day, minor units."
    )
    min_amount = models.BigIntegerField(null=True, blank=True, help_text="Per transaction, minor units.")
    max_amount = models.BigIntegerField(null=True, blank=True, help_text="Per transaction, minor units.")
    four_eyes_amount = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Withdrawals of at least this amount need two different finance operators' approvals.",
    )
    kyc_deposit_threshold = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Once a player's completed deposits in this currency reach it, further deposits need KYC.",
    )
    auto_approve_below = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Withdrawals below this, without risk flags, from verified players are approved automatically.",
    )

    class Meta:
        ordering = ["currency"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "currency"], name="currency_limit_once_per_policy"),
            models.CheckConstraint(
                condition=Q(daily_deposit_limit__isnull=True) | Q(daily_deposit_limit__gte=0),
                name="currency_limit_deposit_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(daily_withdraw_limit__isnull=True) | Q(daily_withdraw_limit__gte=0),
                name="currency_limit_withdraw_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True) | Q(min_amount__gt=0),
                name="currency_limit_min_positive",
            ),
            models.CheckConstraint(
                condition=Q(four_eyes_amount__isnull=True) | Q(four_eyes_amount__gt=0),
                name="currency_limit_four_eyes_positive",
            ),
            models.CheckConstraint(
                condition=Q(kyc_deposit_threshold__isnull=True) | Q(kyc_deposit_threshold__gt=0),
                name="currency_limit_kyc_threshold_positive",
            ),
            models.CheckConstraint(
                condition=Q(auto_approve_below__isnull=True) | Q(auto_approve_below__gt=0),
                name="currency_limit_auto_approve_positive",
            ),
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True)
                | Q(max_amount__isnull=True)
                | Q(max_amount__gte=models.F("min_amount")),
                name="currency_limit_max_not_below_min",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.currency} limits"


class OperatorMembership(models.Model):
    """Makes a Django user an operator of one tenant with one role.

    An operator works for exactly one brand; platform superusers (is_superuser) see
    every tenant without a membership.
    """

    class Role(models.TextChoices):
        VIEWER = "viewer", _("Viewer")
        FINANCE = "finance", _("Finance")
        ADMIN = "admin", _("Admin")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="operator_membership")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="operators")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.role} at {self.tenant.slug})"

    @property
    def can_act(self) -> bool:
        """Finance and admin operators may decide on withdrawals; viewers only read."""
        return self.role in {self.Role.FINANCE, self.Role.ADMIN}

    @property
    def can_edit_policy(self) -> bool:
        return self.role == self.Role.ADMIN


class PolicyChange(models.Model):
    """A change to a tenant's payment policy that loosens a control, waiting for a second admin.

    `changes` lists the controls it changes ({field, currency, before, after}, amounts in
    minor units); the policy itself is untouched until another admin approves. At most one
    change per tenant is pending (a partial unique index). Pending changes expire.
    """

    TTL = timedelta(hours=72)

    class State(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="policy_changes")
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING_APPROVAL)
    changes = models.JSONField()
    reason = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    requested_by_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    decided_by_label = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(state="pending_approval"), name="policy_change_one_pending_per_tenant"
            )
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="policy_change_tenant_time")]

    def __str__(self) -> str:
        return f"Policy change #{self.pk} of {self.tenant} ({self.state})"


class OperatorToken(models.Model):
    """An operator's key to the operator API: made in the console after the second factor, expiring.

    Only the key's SHA-256 is stored; the key itself is shown once, when it is made.
    Revoking deletes the row (the audit trail keeps the record). Who the operator is and
    what they may do is read from their membership at every request, so a changed role
    applies to their tokens at once and a removed operator's tokens open nothing.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="operator_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'payout report script'.")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="The key's first characters, to recognise it by.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="operator_token_user_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
