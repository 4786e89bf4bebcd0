"""Players and their wallets."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from wallet.money import CURRENCY_CHOICES


class Player(models.Model):
    """A casino customer of one tenant, authenticated through a Django user."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="players")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="player")
    external_ref = models.CharField(
        max_length=64, blank=True, help_text="The casino platform's own id for this player."
    )
    display_name = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_ref"],
                condition=~Q(external_ref=""),
                name="player_external_ref_unique_per_tenant",
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()


class Wallet(models.Model):
    """One player's money in one currency, in minor units.

    The balances are a cache of the ledger, written in the same transaction as the
    postings that justify them; reconciliation proves they agree.
    """

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="wallets")
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="wallets")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    balance_available = models.BigIntegerField(default=0)
    balance_held = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["player", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["player", "currency"], name="wallet_one_per_player_currency"),
            models.CheckConstraint(condition=Q(balance_available__gte=0), name="wallet_available_nonnegative"),
            models.CheckConstraint(condition=Q(balance_held__gte=0), name="wallet_held_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.player} {self.currency}"

    @property
    def balance_total(self) -> int:
        return self.balance_available + self.balance_held
