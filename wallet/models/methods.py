"""Payment methods: the card, bank account or e-wallet a player paid with, as the PSP reported it.

A method is recorded from the PSP's outcome of a deposit (wallet.methods.record_method), never
typed in by the player, and a withdrawal names one as its destination. It lives in the wallet,
not in the payouts app that talks to the PSP, because deposits and withdrawals reference it and
a relation may not point up a layer.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.ids import uuid7


class PaymentMethodKind(models.TextChoices):
    CARD = "card", _("Card")
    BANK_ACCOUNT = "bank_account", _("Bank account")
    EWALLET = "ewallet", _("E-wallet")


class PaymentMethod(models.Model):
    """One of a player's payment instruments at the tenant's PSP.

    `token` is the PSP's handle for it (what a payout is sent to); `fingerprint` identifies the
    instrument itself across customers (the same card of two players has one fingerprint and two
    tokens), which is what `shared_payment_method` looks for. (player, provider, token) is unique:
    a second deposit with the same instrument uses the same row.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    player = models.ForeignKey(
        "players.Player", on_delete=models.PROTECT, related_name="payment_methods", db_index=False
    )  # indexed by the unique (player, provider, token)
    provider = models.CharField(max_length=32)
    kind = models.CharField(max_length=16, choices=PaymentMethodKind.choices)
    token = models.CharField(max_length=128, help_text="The PSP's token for the instrument: payouts are sent to it.")
    fingerprint = models.CharField(
        max_length=128, blank=True, help_text="The PSP's fingerprint of the instrument, the same for every customer."
    )
    label = models.CharField(max_length=64, help_text='As the player recognises it, e.g. "Visa •••• 4242".')
    payout_capable = models.BooleanField(default=True, help_text="The PSP can pay money out to it.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, help_text="Its latest completed deposit.")

    class Meta:
        ordering = ["player", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["player", "provider", "token"], name="payment_method_once_per_player"),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "fingerprint"], condition=~Q(fingerprint=""), name="payment_method_fingerprint"
            ),
        ]

    def __str__(self) -> str:
        return self.label
