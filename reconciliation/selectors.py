"""Reads for the operator API and console: runs and findings as one tenant (or the platform) sees them.

A tenant's books are checked by its own runs and by all-tenants runs (the nightly
one); an operator sees both kinds, with only their tenant's findings. `tenant_id=None`
is the platform's view: every run and every finding.

They read from `core.replica.read_alias()`: the replica in the pages and endpoints that
opted in with `@replica.reads`, the primary everywhere else.
"""

from collections import Counter, defaultdict

from django.db.models import Count, F, Min, Q, QuerySet

from core.replica import read_alias
from reconciliation.models import Finding, ReconciliationRun


def runs_covering(tenant_id: int | None) -> QuerySet:
    """Runs that checked this tenant's books, newest first."""
    runs = ReconciliationRun.objects.using(read_alias()).select_related("tenant").order_by("-started_at", "-id")
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
    findings = Finding.objects.using(read_alias()).filter(run=run).order_by("id")
    if tenant_id is not None:
        findings = findings.filter(tenant_id=tenant_id)
    for field, value in (("status", status), ("type", type), ("severity", severity)):
        if value:
            findings = findings.filter(**{field: value})
    return findings


def as_seen_by(runs, tenant_id: int | None) -> list:
    """The runs with an all-tenants run's counts limited to this tenant's findings (in memory, never saved).

    A run's stored counts cover every tenant it checked: another tenant's numbers are not
    this operator's to see. "Open" keeps its meaning, not acted on when the run ended
    (an acknowledgement carried over from an earlier run is dated before it).
    """
    runs = [run for run in runs if run is not None]
    shared = defaultdict(list)  # pk -> each instance of it (the summary's latest is often its last_succeeded)
    for run in {id(run): run for run in runs}.values():
        if run.tenant_id is None:
            shared[run.pk].append(run)
    if tenant_id is None or not shared:
        return runs
    counts = defaultdict(lambda: {"n": 0, "open": 0, "type": Counter(), "severity": Counter()})
    rows = (
        Finding.objects.using(read_alias())
        .filter(run_id__in=shared, tenant_id=tenant_id)
        .values("run_id", "type", "severity")
        .annotate(
            n=Count("id"),
            open_at_end=Count("id", filter=Q(acted_at__isnull=True) | Q(acted_at__gt=F("run__finished_at"))),
        )
    )
    for row in rows:
        seen = counts[row["run_id"]]
        seen["n"] += row["n"]
        seen["open"] += row["open_at_end"]
        seen["type"][row["type"]] += row["n"]
        seen["severity"][row["severity"]] += row["n"]
    for pk, instances in shared.items():
        seen = counts[pk]
        for run in instances:
            run.findings_count, run.open_count = seen["n"], seen["open"]
            run.counts_by_type = dict(sorted(seen["type"].items()))
            run.counts_by_severity = dict(sorted(seen["severity"].items()))
    return runs


def counts_of(run: ReconciliationRun, tenant_id: int | None) -> dict:
    """What a run found over these books, by type, severity and status, and since when the oldest is open."""
    findings = findings_of(run, tenant_id)
    counts = {}
    for field in ("type", "severity", "status"):
        rows = findings.values(field).annotate(n=Count("id")).order_by(field)
        counts[f"by_{field}"] = {row[field]: row["n"] for row in rows}
    counts["oldest_open_since"] = findings.filter(status=Finding.Status.OPEN).aggregate(since=Min("first_seen_at"))[
        "since"
    ]
    return counts


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
    as_seen_by([summary["running"], summary["latest"], summary["last_succeeded"]], tenant_id)
    succeeded = summary["last_succeeded"]
    if succeeded is None:
        return summary
    return {**summary, **counts_of(succeeded, tenant_id)}
