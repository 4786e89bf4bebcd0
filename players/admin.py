from django.contrib import admin

from players.models import Player


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
