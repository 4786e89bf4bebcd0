from django.contrib import admin

from payouts.models import PayoutAttempt
from wallet.admin import ReadOnlyAdmin


@admin.register(PayoutAttempt)
class PayoutAttemptAdmin(ReadOnlyAdmin):
    list_display = ("id", "withdrawal", "number", "status", "provider", "provider_reference", "created_at")
    list_filter = ("tenant", "status", "provider")
    search_fields = ("id", "provider_reference", "withdrawal__reference")
