"""A player's wallets: one per currency."""

from django.db import models
from django.db.models import Q

from core.money import CURRENCY_CHOICES
from core.unit_of_work import written_by_unit_of_work


@written_by_unit_of_work
class Wallet(models.Model):
    """One player's money in one currency, in minor units.

    The balances are a cache of the ledger, written in the same transaction as the
    postings that justify them; reconciliation proves they agree. None is ever negative:
    what the player owes is kept apart, in `balance_receivable`.
    """

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="wallets")
    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="wallets")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    balance_available = models.BigIntegerField(default=0)
    balance_held = models.BigIntegerField(default=0)
    balance_receivable = models.BigIntegerField(
        default=0,
        db_default=0,
        help_text="What the player owes the casino: chargebacks the available balance could not cover (section 16).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["player", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["player", "currency"], name="wallet_one_per_player_currency"),
            models.CheckConstraint(condition=Q(balance_available__gte=0), name="wallet_available_nonnegative"),
            models.CheckConstraint(condition=Q(balance_held__gte=0), name="wallet_held_nonnegative"),
            models.CheckConstraint(condition=Q(balance_receivable__gte=0), name="wallet_receivable_nonnegative"),
        ]
        indexes = [
            # The account restriction's question: does the player owe anything, in any currency?
            models.Index(fields=["player"], condition=Q(balance_receivable__gt=0), name="wallet_receivable_open"),
        ]

    def __str__(self) -> str:
        return f"{self.player} {self.currency}"

    @property
    def balance_total(self) -> int:
        return self.balance_available + self.balance_held
