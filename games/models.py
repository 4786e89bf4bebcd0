"""The game wallet's rows: provider accounts and their signing secrets, games, sessions, rounds and
game transactions (ARCHITECTURE section 15).

Money itself is the wallet's: a game transaction that moves money has exactly one journal
entry, which names it (`wallet_journalentry.game_transaction_id`, unique per event type),
as a deposit's entries name the deposit. Game transactions are append-only (a trigger
refuses UPDATE and DELETE): whether a bet was rolled back is the existence of its applied
rollback, which a partial unique index allows once. Rounds carry running totals, written
in the same statement as their transactions under the wallet's lock.
"""

import pgtrigger
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.ids import uuid7
from core.money import CURRENCY_CHOICES, format_amount
from core.unit_of_work import written_by_unit_of_work


class GameProviderAccount(models.Model):
    """A tenant's account with a game provider (a studio or an aggregator).

    `slug` is the `<provider>` of the game wallet API's URLs, so it is unique across
    tenants: the URL names the account, and the account names the tenant. Its calls are
    signed with one of its active secrets (GameProviderSecret); a deactivated account's
    calls are refused like unsigned ones. `report_url`, when set, is where reconciliation
    reads the provider's daily report (reconciliation.game_report).
    """

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="game_provider_accounts")
    slug = models.SlugField(max_length=64, unique=True, help_text="The <provider> of /api/v1/games/<provider>/.")
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    report_url = models.CharField(
        max_length=500,
        blank=True,
        help_text="The provider's daily report (CSV), {date} standing for the UTC day (YYYY-MM-DD); blank: none.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant", "slug"]

    def __str__(self) -> str:
        return self.slug


class GameProviderSecret(models.Model):
    """One Standard Webhooks signing secret (`whsec_…`) of a provider account.

    Kept in clear: verifying an HMAC needs the key itself (as the PSP accounts' webhook
    secrets). Several are active during a rotation: a call verifies against each active one
    until the old one is retired. The console shows a secret once, when it is made.
    """

    account = models.ForeignKey(GameProviderAccount, on_delete=models.PROTECT, related_name="secrets")
    secret = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The secret's first characters, to recognise it by.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_label = models.CharField(max_length=150, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["account", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… of {self.account_id}"

    @property
    def is_active(self) -> bool:
        return self.retired_at is None


class Game(models.Model):
    """A game of a provider account that players can start (`game` in POST games/sessions/).

    `launch_url` is a template (games.sessions.launch_url): {session_token}, {api_base},
    {currency}, {game} and {provider} are replaced by their URL-encoded values; a template
    without {session_token} gets them appended as query parameters.
    """

    account = models.ForeignKey(GameProviderAccount, on_delete=models.PROTECT, related_name="games")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=120)
    launch_url = models.CharField(max_length=500)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant", "name"]
        constraints = [models.UniqueConstraint(fields=["account", "code"], name="game_code_once_per_account")]

    def __str__(self) -> str:
        return self.name


class GameSession(models.Model):
    """A player's session in one game and currency, as the provider knows it: its token.

    Only the token's SHA-256 is stored; the token itself goes to the player (in the launch
    URL) and from there to the provider. Bets need an unexpired session; wins and
    rollbacks land whenever they come.
    """

    token_digest = models.CharField(max_length=64, unique=True)
    account = models.ForeignKey(GameProviderAccount, on_delete=models.PROTECT, related_name="+", db_index=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="game_sessions")
    game = models.ForeignKey(Game, on_delete=models.PROTECT, related_name="sessions", db_index=False)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"game session {self.pk} of player {self.player_id}"


class RoundStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class RoundCloseReason(models.TextChoices):
    ROUND_CLOSED = "round_closed", _("Closed by the provider")
    IDLE = "idle", _("Closed after the idle time")


@written_by_unit_of_work
class GameRound(models.Model):
    """One round of play as the provider names it (`round_id`), with its running totals.

    Opened by its first accepted bet; its totals are the sums of its applied transactions
    (reconciliation checks it). Every write holds the wallet's lock: bets, wins and
    rollbacks lock it first, and the idle sweeper takes it with SKIP LOCKED. Closed by a
    win with `round_closed` or by the sweeper after the tenant's idle time; a closed round
    takes no bets, while wins and rollbacks still land.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # The account and the tenant are copies of the session's (docs/data-model.md): a constraint
    # would lock the one account row shared by every bet of the provider (FOR KEY SHARE).
    account = models.ForeignKey(
        GameProviderAccount, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="+", db_index=False)
    wallet = models.ForeignKey("wallet.Wallet", on_delete=models.PROTECT, related_name="+", db_index=False)
    game = models.ForeignKey(Game, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False)
    round_id = models.CharField(max_length=255, help_text="The provider's round id.")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    status = models.CharField(max_length=8, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    close_reason = models.CharField(max_length=16, choices=RoundCloseReason.choices, blank=True)
    bet_total = models.BigIntegerField(default=0, help_text="Minor units: applied bets.")
    win_total = models.BigIntegerField(default=0, help_text="Minor units: applied wins.")
    rolled_back_total = models.BigIntegerField(default=0, help_text="Minor units: bets rolled back.")
    bet_count = models.PositiveIntegerField(default=0)
    win_count = models.PositiveIntegerField(default=0, help_text="Wins recorded, zero wins included.")
    rollback_count = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["account", "round_id"], name="game_round_once_per_account"),
            models.CheckConstraint(
                condition=Q(bet_total__gte=0) & Q(win_total__gte=0) & Q(rolled_back_total__gte=0),
                name="game_round_totals_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True) | Q(status="closed", closed_at__isnull=False),
                name="game_round_closed_has_time",
            ),
        ]
        indexes = [
            # The idle sweeper's scan: open rounds opened before the cutoff (a round idle since
            # then was opened before it). opened_at never changes, so a bet's update of the
            # totals and last_activity_at touches no indexed column.
            models.Index(fields=["opened_at"], condition=Q(status="open"), name="game_round_open_since"),
            models.Index(fields=["player", "-opened_at"], name="game_round_player_time"),
        ]

    def __str__(self) -> str:
        return f"round {self.round_id}"

    @property
    def settled(self) -> bool:
        """A win was recorded on it: its bets can no longer be rolled back."""
        return self.win_count > 0


class TransactionKind(models.TextChoices):
    BET = "bet", _("Bet")
    WIN = "win", _("Win")
    ROLLBACK = "rollback", _("Rollback")


class TransactionStatus(models.TextChoices):
    APPLIED = "applied", _("Applied: money moved")
    NO_EFFECT = "no_effect", _("Recorded, no money moved")
    REFUSED = "refused", _("Refused")
    CANCELED = "canceled", _("Rolled back before it arrived")


@written_by_unit_of_work
class GameTransaction(models.Model):
    """One call of a provider that names a `transaction_id`, with the answer it got.

    (account, transaction_id) is unique: the same id again is answered from
    `response_status`/`response_body` (the same body) or refused as a conflict (another
    body, `request_digest` tells). Kinds and statuses:
    - applied: money moved; its journal entry (bet_placed, win_paid or bet_rolled_back)
      names this row.
    - no_effect: recorded without money (a zero win, a rollback of a bet that took
      nothing or was rolled back already, a rollback of a bet not seen yet).
    - refused: a bet refused for a reason of state (funds, limits, exclusion, a closed
      round, an expired session): kept so a retry gets the same refusal.
    - canceled: a bet whose rollback came first; written by that rollback, with the
      refusal (GAME_TRANSACTION_ROLLED_BACK) the late bet will get.
    """

    TX_TYPE = "game"  # what the ledger and the audit trail call this source

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # The account and the tenant are copies of the session's (docs/data-model.md): a constraint
    # would lock the one account row shared by every bet of the provider (FOR KEY SHARE).
    account = models.ForeignKey(
        GameProviderAccount, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="+", db_index=False)
    wallet = models.ForeignKey(
        "wallet.Wallet", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    session = models.ForeignKey(
        GameSession, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    round = models.ForeignKey(GameRound, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=8, choices=TransactionKind.choices)
    status = models.CharField(max_length=10, choices=TransactionStatus.choices)
    transaction_id = models.CharField(max_length=255, help_text="The provider's id, unique per provider account.")
    round_ref = models.CharField(max_length=255, blank=True, help_text="The round_id the call named.")
    reference_transaction_id = models.CharField(max_length=255, blank=True, help_text="Rollbacks: the bet's id.")
    amount = models.BigIntegerField(help_text="Minor units, as the call named it.")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    round_closed = models.BooleanField(default=False, help_text="Wins: the call closed the round.")
    error_code = models.CharField(max_length=64, blank=True)
    balance_after = models.BigIntegerField(null=True, blank=True, help_text="The available balance answered.")
    request_digest = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the call's canonical body.")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["account", "transaction_id"], name="game_transaction_once_per_account"),
            # A bet gives its money back at most once, whatever the rollbacks' own ids.
            models.UniqueConstraint(
                fields=["account", "reference_transaction_id"],
                condition=Q(kind="rollback", status="applied"),
                name="game_bet_rolled_back_once",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="game_transaction_amount_nonnegative"),
            models.CheckConstraint(
                condition=~Q(status="applied") | Q(amount__gt=0), name="game_transaction_applied_moves_money"
            ),
        ]
        indexes = [
            # GGR per tenant, day and currency; a player's or a wallet's play goes through rounds.
            models.Index(fields=["tenant", "created_at"], name="game_tx_tenant_time"),
        ]
        triggers = [
            pgtrigger.Protect(name="game_transaction_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.transaction_id}"

    @property
    def amount_display(self) -> str:
        return f"{format_amount(self.amount, self.currency)} {self.currency}"
