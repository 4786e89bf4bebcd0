"""Read-only admin pages for money rows: balances and states change only through services."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyInline, money
from wallet.models import (
    Deposit,
    DepositTransition,
    JournalEntry,
    PayoutAttempt,
    Posting,
    Wallet,
    Withdrawal,
    WithdrawalTransition,
)


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    available = money("balance_available", label="available")
    held = money("balance_held", label="held")
    money_fields = ("available", "held")
    list_display = ("player", "tenant", "currency", "available", "held", "updated_at")
    list_filter = ("tenant", "currency")
    search_fields = ("player__user__username",)


class PostingInline(ReadOnlyInline):
    model = Posting
    posted = money("amount", currency="entry.currency", label="amount")
    after = money("balance_after", currency="entry.currency", label="balance after")
    money_fields = ("posted", "after")
    fields = ("account", "wallet", "amount", "balance_after")


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "event_type", "tenant", "currency", "deposit", "withdrawal", "created_at")
    list_filter = ("tenant", "event_type", "currency")
    inlines = [PostingInline]


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    posted = money("amount", currency="entry.currency", label="amount")
    after = money("balance_after", currency="entry.currency", label="balance after")
    money_fields = ("posted", "after")
    list_display = ("id", "entry", "account", "wallet", "posted")
    list_select_related = ("entry",)
    list_filter = ("account",)


class DepositTransitionInline(ReadOnlyInline):
    model = DepositTransition
    fields = ("created_at", "from_state", "to_state", "actor_type", "actor_label", "reason")


@admin.register(Deposit)
class DepositAdmin(ReadOnlyAdmin):
    shown_amount = money("amount", label="amount")
    money_fields = ("shown_amount",)
    list_display = ("reference", "tenant", "player", "shown_amount", "state", "provider_reference", "created_at")
    list_filter = ("tenant", "state", "currency")
    search_fields = ("reference", "provider_reference", "player__user__username")
    inlines = [DepositTransitionInline]


class WithdrawalTransitionInline(ReadOnlyInline):
    model = WithdrawalTransition
    fields = ("created_at", "from_state", "to_state", "actor_type", "actor_label", "reason")


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnlyAdmin):
    shown_amount = money("amount", label="amount")
    money_fields = ("shown_amount",)
    list_display = ("reference", "tenant", "player", "shown_amount", "state", "created_at")
    list_filter = ("tenant", "state", "currency")
    search_fields = ("reference", "player__user__username")
    inlines = [WithdrawalTransitionInline]


@admin.register(DepositTransition, WithdrawalTransition)
class TransitionAdmin(ReadOnlyAdmin):
    list_display = ("id", "from_state", "to_state", "actor_type", "actor_label", "created_at")


@admin.register(PayoutAttempt)
class PayoutAttemptAdmin(ReadOnlyAdmin):
    list_display = ("id", "withdrawal", "number", "status", "provider", "provider_reference", "created_at")
    list_filter = ("tenant", "status", "provider")
    search_fields = ("id", "provider_reference", "withdrawal__reference")
