"""Reads for the operator API and console: runs and findings as one tenant (or the platform) sees them.

A tenant's books are checked by its own runs and by all-tenants runs (the nightly
one); an operator sees both kinds, with only their tenant's findings. `tenant_id=None`
is the platform's view: every run and every finding.
"""

from django.db.models import Count, Min, Q, QuerySet

from reconciliation.models import Finding, ReconciliationRun


def runs_covering(tenant_id: int | None) -> QuerySet:
    """Runs that checked this tenant's books, newest first."""
    runs = ReconciliationRun.objects.select_related("tenant").order_by("-started_at", "-id")
    if tenant_id is None:
        return runs
    return runs.filter(Q(tenant_id=tenant_id) | Q(tenant__isnull=True))


def findings_of(
    run: ReconciliationRun,
    tenant_id: int | None,
    *,
    status: str = "",
    type: str = "",
    severity: str = "",
) -> QuerySet:
    findings = Finding.objects.filter(run=run).order_by("id")
    if tenant_id is not None:
        findings = findings.filter(tenant_id=tenant_id)
    for field, value in (("status", status), ("type", type), ("severity", severity)):
        if value:
            findings = findings.filter(**{field: value})
    return findings


def summary(tenant_id: int | None) -> dict:
    """The morning view: the last finished run over these books and what it left open."""
    runs = runs_covering(tenant_id)
    latest = runs.exclude(status=ReconciliationRun.Status.RUNNING).first()
    summary = {
        "running": runs.filter(status=ReconciliationRun.Status.RUNNING).first(),
        "latest": latest,
        "last_succeeded": latest
        if latest is not None and latest.status == ReconciliationRun.Status.SUCCEEDED
        else runs.filter(status=ReconciliationRun.Status.SUCCEEDED).first(),
        "by_type": {},
        "by_severity": {},
        "by_status": {},
        "oldest_open_since": None,
    }
    succeeded = summary["last_succeeded"]
    if succeeded is None:
        return summary
    findings = findings_of(succeeded, tenant_id)
    for field in ("type", "severity", "status"):
        counts = findings.values(field).annotate(n=Count("id")).order_by(field)
        summary[f"by_{field}"] = {row[field]: row["n"] for row in counts}
    summary["oldest_open_since"] = findings.filter(status=Finding.Status.OPEN).aggregate(since=Min("first_seen_at"))[
        "since"
    ]
    return summary
