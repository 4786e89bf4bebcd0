from django.urls import path

from . import api, console

# Operator API, under /api/v1/ (namespace "api").
urlpatterns = [
    path("admin/reconciliation/runs/", api.RunListView.as_view(), name="admin-reconciliation-runs"),
    path("admin/reconciliation/summary/", api.SummaryView.as_view(), name="admin-reconciliation-summary"),
    path(
        "admin/reconciliation/runs/<str:run_id>/findings/",
        api.FindingListView.as_view(),
        name="admin-reconciliation-findings",
    ),
    path(
        "admin/reconciliation/findings/<str:finding_id>/acknowledge/",
        api.AcknowledgeView.as_view(),
        name="admin-reconciliation-acknowledge",
    ),
    path(
        "admin/reconciliation/findings/<str:finding_id>/resolve/",
        api.ResolveView.as_view(),
        name="admin-reconciliation-resolve",
    ),
]

# Console pages, under /console/ (namespace "console").
console_urlpatterns = [
    path("reconciliation/", console.overview, name="reconciliation"),
    path("reconciliation/runs/", console.start_run, name="reconciliation-run"),
    path("reconciliation/findings/<str:finding_id>/<slug:act>/", console.act_on_finding, name="reconciliation-act"),
]
