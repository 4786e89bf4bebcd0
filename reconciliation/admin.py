"""Read-mostly admin pages: runs and findings are written by reconciliation.services only.

The one act offered here, acknowledging findings, goes through the same audited
service as the operator API; resolving needs a note and belongs to the console and API.
"""

from django.contrib import admin, messages

from core.actors import Actor
from core.admin import ReadOnlyAdmin
from core.errors import DomainError
from reconciliation.models import Finding, ReconciliationRun
from reconciliation.services import acknowledge_finding


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "tenant",
        "status",
        "triggered_by",
        "started_at",
        "finished_at",
        "findings_count",
        "open_count",
        "settlement_date",
    )
    list_filter = ("status", "triggered_by", "tenant")
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in ReconciliationRun._meta.fields]


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "run",
        "tenant",
        "severity",
        "type",
        "object_type",
        "object_id",
        "expected",
        "actual",
        "status",
        "first_seen_at",
    )
    list_filter = ("status", "severity", "type", "tenant")
    search_fields = ("object_id", "key")
    list_select_related = ("run", "tenant")
    readonly_fields = [f.name for f in Finding._meta.fields]
    actions = ["acknowledge"]

    @admin.action(description="Acknowledge selected findings")
    def acknowledge(self, request, queryset):
        actor = Actor.operator(request.user)
        done = 0
        for finding in queryset:
            try:
                acknowledge_finding(finding, actor=actor, note="Acknowledged in the admin.")
                done += 1
            except DomainError as refusal:
                self.message_user(request, f"Finding {finding.pk}: {refusal.detail}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} finding(s) acknowledged.", messages.SUCCESS)
