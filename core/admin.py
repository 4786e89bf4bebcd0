"""Read-only admin pages for the platform's rows, and the read-only bases every app's admin uses."""

from django.contrib import admin

from core.models import AuditEvent


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


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "tenant_id", "action", "actor_type", "actor_label", "target_type", "target_id")
    list_filter = ("tenant_id", "action", "actor_type")
    search_fields = ("target_id", "actor_label", "request_id")
