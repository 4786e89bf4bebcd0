"""Read-only admin pages for the platform's rows, and the bases every app's admin uses.

The Django admin is the platform team's tool. Money, states and policy change only
through the services (with their locks, ledger, audit and maker-checker), so the admin
shows them and edits none of them; amounts are shown as money ("1,000.00 EUR"), never
as minor units.
"""

from operator import attrgetter

from django.contrib import admin

from core.models import AuditEvent
from core.money import display_money


def money(field: str, *, currency: str = "currency", label: str | None = None):
    """An admin column showing `field` (minor units) as money: assign it to a class attribute
    and name that attribute in list_display and money_fields. `currency` is an attribute
    path on the row ("currency", "entry.currency")."""

    def shown(admin_self, obj) -> str:
        return display_money(getattr(obj, field), attrgetter(currency)(obj)) or "—"

    shown.short_description = label or field.replace("_", " ")
    shown.admin_order_field = field
    shown.money_field = field
    return shown


class MoneyFields:
    """Detail pages leave out the raw minor-unit fields behind `money_fields` and show those instead."""

    money_fields: tuple[str, ...] = ()

    def get_exclude(self, request, obj=None):
        raw = tuple(getattr(self, name).money_field for name in self.money_fields)
        return (*(super().get_exclude(request, obj) or ()), *raw)

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *self.money_fields)

    def get_fields(self, request, obj=None):
        if not self.fields:
            return super().get_fields(request, obj)
        raw = {getattr(self, name).money_field: name for name in self.money_fields}
        return [raw.get(name, name) for name in self.fields]


class ReadOnlyAdmin(MoneyFields, admin.ModelAdmin):
    """Rows written by service functions alone; the admin only shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(MoneyFields, admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        # Every shown field, or Django builds a form over non-editable ones (created_at) and fails.
        return tuple(dict.fromkeys((*(self.fields or ()), *super().get_readonly_fields(request, obj))))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "tenant_id", "action", "actor_type", "actor_label", "target_type", "target_id")
    list_filter = ("tenant_id", "action", "actor_type")
    search_fields = ("target_id", "actor_label", "request_id")
