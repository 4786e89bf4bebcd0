"""Read-only admin pages of the game wallet: accounts are kept in the console, money rows by the services.

A secret's value is never shown here, only its prefix; it was shown once, when it was made.
"""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyInline, money
from games.models import Game, GameProviderAccount, GameProviderSecret, GameRound, GameSession, GameTransaction


class SecretInline(ReadOnlyInline):
    model = GameProviderSecret
    fields = ("prefix", "created_at", "created_by_label", "retired_at", "retired_by_label")


class GameInline(ReadOnlyInline):
    model = Game
    fields = ("code", "name", "launch_url", "is_active")


@admin.register(GameProviderAccount)
class GameProviderAccountAdmin(ReadOnlyAdmin):
    list_display = ("slug", "name", "tenant", "is_active", "created_at")
    list_filter = ("tenant", "is_active")
    search_fields = ("slug", "name")
    inlines = [SecretInline, GameInline]


@admin.register(Game)
class GameAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "code", "account", "tenant", "is_active")
    list_filter = ("tenant", "is_active")


@admin.register(GameSession)
class GameSessionAdmin(ReadOnlyAdmin):
    list_display = ("id", "player", "game", "currency", "created_at", "expires_at")
    list_filter = ("tenant", "currency")
    exclude = ("token_digest",)


@admin.register(GameRound)
class GameRoundAdmin(ReadOnlyAdmin):
    bets = money("bet_total", label="bets")
    wins = money("win_total", label="wins")
    rolled_back = money("rolled_back_total", label="rolled back")
    money_fields = ("bets", "wins", "rolled_back")
    list_display = ("round_id", "player", "tenant", "currency", "status", "bets", "wins", "rolled_back", "opened_at")
    list_filter = ("tenant", "status", "currency")
    search_fields = ("round_id",)


@admin.register(GameTransaction)
class GameTransactionAdmin(ReadOnlyAdmin):
    shown_amount = money("amount", label="amount")
    money_fields = ("shown_amount",)
    list_display = ("transaction_id", "kind", "status", "shown_amount", "player", "tenant", "error_code", "created_at")
    list_filter = ("tenant", "kind", "status", "currency")
    search_fields = ("transaction_id", "reference_transaction_id", "round_ref")
