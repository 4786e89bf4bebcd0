"""Tenants in the platform admin. The payment policy is read-only here: it changes only through
tenants.services (tightening at once, loosening with a second admin's approval, audited)."""

from django.contrib import admin, messages

from core.actors import Actor
from core.admin import MoneyFields, ReadOnlyAdmin, money
from core.money import display_money
from tenants.models import CurrencyLimit, OperatorMembership, PaymentPolicy, PolicyChange, Tenant
from tenants.policy import CURRENCY_CONTROLS
from tenants.services import set_tenant_status


class PaymentPolicyInline(admin.StackedInline):
    model = PaymentPolicy
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "status", "allowed_currencies", "time_zone", "created_at")
    list_filter = ("status",)
    search_fields = ("slug", "name")
    inlines = [PaymentPolicyInline]
    readonly_fields = ("status",)  # a state: it changes through the audited actions below
    actions = ["suspend", "reactivate"]

    @admin.action(description="Suspend the selected casinos (no new payments)")
    def suspend(self, request, queryset):
        self._set_status(request, queryset, Tenant.Status.SUSPENDED)

    @admin.action(description="Reactivate the selected casinos")
    def reactivate(self, request, queryset):
        self._set_status(request, queryset, Tenant.Status.ACTIVE)

    def _set_status(self, request, queryset, status):
        actor = Actor.operator(request.user)
        for tenant in queryset:
            set_tenant_status(tenant, status, actor=actor, reason="Platform admin action")
        self.message_user(request, f"{queryset.count()} casino(s) now {status}.", messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        return False  # tenants own money rows; suspend instead


class CurrencyLimitInline(MoneyFields, admin.TabularInline):
    model = CurrencyLimit
    extra = 0
    can_delete = False
    fields = ("currency", *CURRENCY_CONTROLS)
    deposit_limit = money("daily_deposit_limit", label="daily deposit limit")
    withdraw_limit = money("daily_withdraw_limit", label="daily withdraw limit")
    smallest = money("min_amount", label="min amount")
    largest = money("max_amount", label="max amount")
    two_approvals_from = money("four_eyes_amount", label="four-eyes amount")
    money_fields = ("deposit_limit", "withdraw_limit", "smallest", "largest", "two_approvals_from")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PaymentPolicy)
class PaymentPolicyAdmin(ReadOnlyAdmin):
    list_display = ("tenant", "payout_retry_limit", "payout_cooldown_seconds", "updated_at")
    inlines = [CurrencyLimitInline]


@admin.register(PolicyChange)
class PolicyChangeAdmin(ReadOnlyAdmin):
    list_display = ("id", "tenant", "state", "requested_by_label", "created_at", "decided_by_label", "decided_at")
    list_filter = ("tenant", "state")
    exclude = ("changes",)
    readonly_fields = ("changes_shown",)

    @admin.display(description="changes")
    def changes_shown(self, change) -> str:
        parts = []
        for row in change.changes:
            currency = row.get("currency")
            if currency and row["field"] in CURRENCY_CONTROLS:
                before = money_or_none(row.get("before"), currency)
                after = money_or_none(row.get("after"), currency)
            else:
                before, after = row.get("before"), row.get("after")
            parts.append(f"{row['field']}{f' {currency}' if currency else ''}: {before} → {after}")
        return "; ".join(parts)


def money_or_none(minor, currency) -> str:
    return display_money(minor, currency) if minor is not None else "no limit"


@admin.register(OperatorMembership)
class OperatorMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("tenant", "role")
    search_fields = ("user__username",)
    autocomplete_fields = ("user",)
