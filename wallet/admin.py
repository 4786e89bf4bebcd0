"""Read-only admin pages for money rows: balances and states change only through services."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyInline
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
    list_display = ("player", "tenant", "currency", "balance_available", "balance_held", "updated_at")
    list_filter = ("tenant", "currency")
    search_fields = ("player__user__username",)


class PostingInline(ReadOnlyInline):
    model = Posting
    fields = ("account", "wallet", "amount")


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "event_type", "tenant", "currency", "deposit", "withdrawal", "created_at")
    list_filter = ("tenant", "event_type", "currency")
    inlines = [PostingInline]


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    list_display = ("id", "entry", "account", "wallet", "amount")
    list_filter = ("account",)


class DepositTransitionInline(ReadOnlyInline):
    model = DepositTransition
    fields = ("created_at", "from_state", "to_state", "actor_type", "actor_label", "reason")


@admin.register(Deposit)
class DepositAdmin(ReadOnlyAdmin):
    list_display = ("reference", "tenant", "player", "amount", "currency", "state", "provider_reference", "created_at")
    list_filter = ("tenant", "state", "currency")
    search_fields = ("reference", "provider_reference", "player__user__username")
    inlines = [DepositTransitionInline]


class WithdrawalTransitionInline(ReadOnlyInline):
    model = WithdrawalTransition
    fields = ("created_at", "from_state", "to_state", "actor_type", "actor_label", "reason")


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnlyAdmin):
    list_display = ("reference", "tenant", "player", "amount", "currency", "state", "created_at")
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
