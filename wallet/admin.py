"""Read-only admin pages for money rows: balances and states change only through services."""

from django.contrib import admin

from wallet.models import (
    AuditEvent,
    Deposit,
    DepositTransition,
    JournalEntry,
    Player,
    Posting,
    Wallet,
    Withdrawal,
    WithdrawalTransition,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money rows are written by service functions alone; the admin only shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Player)
class PlayerAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "display_name", "tenant", "external_ref", "created_at")
    list_filter = ("tenant",)
    search_fields = ("user__username", "display_name", "external_ref")
    raw_id_fields = ("user",)

    def get_readonly_fields(self, request, obj=None):
        return ("tenant", "user") if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False


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


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "tenant", "action", "actor_type", "actor_label", "target_type", "target_id")
    list_filter = ("tenant", "action", "actor_type")
    search_fields = ("target_id", "actor_label", "request_id")
