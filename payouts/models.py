"""The PSP side: provider accounts and the webhook events they send."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _


class ProviderAccount(models.Model):
    """A tenant's account at a PSP: which provider, how to reach it, how to check its webhooks.

    Several webhook secrets may be active at once so they can be rotated without
    dropping events: add the new one, switch the PSP over, then remove the old one.
    """

    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.PROTECT, related_name="provider_account")
    provider = models.CharField(max_length=32, help_text="A name in settings.PAYMENT_PROVIDERS, e.g. sandbox.")
    merchant_id = models.CharField(max_length=64, help_text="Our account id at the PSP.")
    api_key = models.CharField(max_length=200, blank=True)
    base_url = models.URLField(blank=True, help_text="The PSP's API; empty for the in-process sandbox.")
    webhook_secrets = ArrayField(
        models.CharField(max_length=200), default=list, help_text="Active Standard Webhooks secrets (whsec_...)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "merchant_id"], name="provider_account_unique_merchant")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.merchant_id}"


class WebhookEvent(models.Model):
    """Every signed webhook we accepted, stored raw before it is applied.

    (tenant, provider, event_id) is unique: a redelivered event is recognized before any
    row lock is taken and acknowledged without effect. The id is the whole `webhook-id`
    (longer ones are refused before any work) and belongs to the account that signed it:
    two accounts' events never deduplicate each other, nor do two ids that share a prefix.
    """

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        NO_CHANGE = "no_change", _("Already in that state")
        STALE = "stale", _("Out of order, ignored")
        CONFLICT = "conflict", _("Contradicts a recorded outcome")
        UNKNOWN_OBJECT = "unknown_object", _("No such object")
        MISMATCH = "mismatch", _("Amount or currency differ")
        UNSUPPORTED = "unsupported", _("Event type not handled")

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255, help_text="The webhook-id header, whole.")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    event_type = models.CharField(max_length=64, blank=True)
    payload = models.TextField(help_text="The raw body, exactly as signed.")
    signed_at = models.DateTimeField(help_text="The webhook-timestamp header.")
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    outcome_detail = models.TextField(blank=True)
    deposit = models.ForeignKey(
        "wallet.Deposit", null=True, blank=True, on_delete=models.PROTECT, related_name="webhook_events"
    )
    payout_attempt = models.ForeignKey(
        "wallet.PayoutAttempt", null=True, blank=True, on_delete=models.PROTECT, related_name="webhook_events"
    )

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "provider", "event_id"], name="webhook_event_once_per_account"),
        ]
        indexes = [models.Index(fields=["tenant", "-received_at"], name="webhook_tenant_time")]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"
