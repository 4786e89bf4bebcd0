from django.contrib import admin

from tenants.models import CurrencyLimit, OperatorMembership, PaymentPolicy, Tenant


class PaymentPolicyInline(admin.StackedInline):
    model = PaymentPolicy
    can_delete = False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "status", "allowed_currencies", "time_zone", "created_at")
    list_filter = ("status",)
    search_fields = ("slug", "name")
    inlines = [PaymentPolicyInline]

    def has_delete_permission(self, request, obj=None):
        return False  # tenants own money rows; suspend instead


class CurrencyLimitInline(admin.TabularInline):
    model = CurrencyLimit
    extra = 0


@admin.register(PaymentPolicy)
class PaymentPolicyAdmin(admin.ModelAdmin):
    list_display = ("tenant", "payout_retry_limit", "payout_cooldown_seconds", "updated_at")
    inlines = [CurrencyLimitInline]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OperatorMembership)
class OperatorMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("tenant", "role")
    search_fields = ("user__username",)
    autocomplete_fields = ("user",)
