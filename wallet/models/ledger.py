"""The double-entry ledger: journal entries and their postings.

Sign convention: a posting adds its amount to its account. Player accounts hold what
the casino owes the player, so a deposit posts +amount to the player's available
account and -amount to the tenant's PSP clearing account. The player receivable is what
the player owes the casino (a chargeback available could not cover), so it sits below
zero in this convention: its balance is minus the wallet's `balance_receivable`. Every entry sums to zero
(a deferred constraint trigger checks it at commit), so the clearing account of a
tenant and currency is always minus the money its players hold.
"""

import pgtrigger
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.money import CURRENCY_CHOICES, display_money
from core.unit_of_work import written_by_unit_of_work


class LedgerEvent(models.TextChoices):
    DEPOSIT_COMPLETED = "deposit_completed", _("Deposit completed")
    WITHDRAW_REQUESTED = "withdraw_requested", _("Withdrawal requested")
    WITHDRAW_RELEASED = "withdraw_released", _("Withdrawal released")
    WITHDRAW_PAID = "withdraw_paid", _("Withdrawal paid")
    # Play (the game wallet posts these; loss limits count them).
    BET_PLACED = "bet_placed", _("Bet placed")
    WIN_PAID = "win_paid", _("Win paid")
    BET_ROLLED_BACK = "bet_rolled_back", _("Bet rolled back")
    # Disputes and returns (section 16).
    DEPOSIT_CHARGED_BACK = "deposit_charged_back", _("Deposit charged back")
    CHARGEBACK_REVERSED = "chargeback_reversed", _("Chargeback reversed")
    DEPOSIT_CHARGED_BACK_AGAIN = "deposit_charged_back_again", _("Deposit charged back again")
    WITHDRAW_RETURNED = "withdraw_returned", _("Withdrawal returned")


class Account(models.TextChoices):
    PLAYER_AVAILABLE = "player_available", _("Player available")
    PLAYER_HELD = "player_held", _("Player held")
    PSP_CLEARING = "psp_clearing", _("Tenant PSP clearing")
    GAME_HOUSE = "game_house", _("Tenant game house")
    PLAYER_RECEIVABLE = "player_receivable", _("Player receivable")


@written_by_unit_of_work
class JournalEntry(models.Model):
    """One money event. (event type, source object) is unique: it happens at most once."""

    # The unique (source, event) constraints index the source keys; the busiest table
    # carries no other index but its primary key.
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="journal_entries", db_index=False, db_constraint=False
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    event_type = models.CharField(max_length=32, choices=LedgerEvent.choices)
    deposit = models.ForeignKey(
        "wallet.Deposit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entries",
        db_index=False,
    )
    withdrawal = models.ForeignKey(
        "wallet.Withdrawal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entries",
        db_index=False,
    )
    # The games app's GameTransaction (bet, win, rollback). A plain column, not a relation:
    # the wallet sits below the games app, which refers to the wallet, never the other way.
    game_transaction_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "journal entries"
        constraints = [
            models.CheckConstraint(
                condition=(Q(deposit__isnull=False) & Q(withdrawal__isnull=True) & Q(game_transaction_id__isnull=True))
                | (Q(deposit__isnull=True) & Q(withdrawal__isnull=False) & Q(game_transaction_id__isnull=True))
                | (Q(deposit__isnull=True) & Q(withdrawal__isnull=True) & Q(game_transaction_id__isnull=False)),
                name="journal_entry_has_one_source",
            ),
            models.UniqueConstraint(
                fields=["game_transaction_id", "event_type"],
                condition=Q(game_transaction_id__isnull=False),
                name="journal_event_once_per_game_transaction",
            ),
            models.UniqueConstraint(
                fields=["deposit", "event_type"],
                condition=Q(deposit__isnull=False),
                name="journal_event_once_per_deposit",
            ),
            models.UniqueConstraint(
                fields=["withdrawal", "event_type"],
                condition=Q(withdrawal__isnull=False),
                name="journal_event_once_per_withdrawal",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="journal_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk}"


@written_by_unit_of_work
class Posting(models.Model):
    """One leg of a journal entry: an amount on one account.

    Player accounts are identified by their wallet; the clearing account by the entry's
    tenant and currency, so it has no wallet.
    """

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    account = models.CharField(max_length=24, choices=Account.choices)
    wallet = models.ForeignKey(
        "wallet.Wallet", null=True, blank=True, on_delete=models.PROTECT, related_name="postings", db_index=False
    )
    amount = models.BigIntegerField()
    balance_after = models.BigIntegerField(
        null=True, blank=True, help_text="The player account's balance right after this posting (receipts)."
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["wallet", "account"], name="posting_wallet_account")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="posting_amount_nonzero"),
            models.CheckConstraint(
                condition=(Q(account__in=["psp_clearing", "game_house"]) & Q(wallet__isnull=True))
                | (Q(account__in=["player_available", "player_held", "player_receivable"]) & Q(wallet__isnull=False)),
                name="posting_wallet_matches_account",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="posting_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            # Checked at commit, once all legs of the entry are written.
            pgtrigger.Trigger(
                name="posting_entry_balances",
                operation=pgtrigger.Insert,
                when=pgtrigger.After,
                level=pgtrigger.Row,
                timing=pgtrigger.Deferred,
                func="""
                    IF (SELECT COALESCE(SUM(amount), 0) FROM wallet_posting
                        WHERE entry_id = NEW.entry_id) <> 0 THEN
                        RAISE EXCEPTION 'journal entry % does not balance', NEW.entry_id
                            USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NULL;
                """,
            ),
        ]

    def __str__(self) -> str:
        sign = "+" if self.amount > 0 else "-"
        return f"{self.account} {sign}{display_money(abs(self.amount), self.entry.currency)}"
