"""Telling people: an ERROR on the `reconciliation.alerts` logger and an e-mail to each tenant's admins.

Called after the run's transaction committed; a failure to send never undoes the run.
Log shippers alert on the logger name; the e-mail goes to the active admin operators
(role admin) of each tenant with findings, with only that tenant's findings in it.
"""

import logging
from collections import Counter, defaultdict

from django.conf import settings
from django.core.mail import send_mail

from reconciliation.models import FindingType
from tenants.models import OperatorMembership, Tenant

log = logging.getLogger("reconciliation.alerts")

RUNBOOK = "docs/runbooks/reconciliation.md"
LISTED = 20  # findings named one by one in an e-mail; the counts cover the rest


def _counts(found) -> str:
    counts = Counter(str(f.type) for f in found)
    return ", ".join(f"{kind}={n}" for kind, n in sorted(counts.items()))


def notify(run, found) -> None:
    """Alert about a run's findings: one log line for the run, one e-mail per tenant."""
    log.error(
        "Reconciliation run %s (%s) found %d finding(s), %d open: %s",
        run.pk,
        run.scope,
        run.findings_count,
        run.open_count,
        _counts(found),
        extra={"run_id": run.pk, "counts_by_type": run.counts_by_type, "findings": run.findings_count},
    )
    by_tenant = defaultdict(list)
    for finding in found:
        by_tenant[finding.tenant_id].append(finding)
    try:
        _email_admins(run, by_tenant)
    except Exception:  # noqa: BLE001 - the run is recorded; a mail server problem must not hide it
        log.exception("Could not e-mail the reconciliation findings of run %s", run.pk)


def log_failure(run, detail: str) -> None:
    log.error("Reconciliation run %s (%s) failed: %s", run.pk, run.scope, detail, extra={"run_id": run.pk})


def _email_admins(run, by_tenant: dict) -> None:
    tenant_ids = [pk for pk in by_tenant if pk is not None]
    tenants = Tenant.objects.in_bulk(tenant_ids)
    admins = defaultdict(list)
    memberships = OperatorMembership.objects.filter(
        tenant_id__in=tenant_ids, role=OperatorMembership.Role.ADMIN, user__is_active=True
    ).exclude(user__email="")
    for tenant_id, email in memberships.values_list("tenant_id", "user__email"):
        admins[tenant_id].append(email)
    for tenant_id in sorted(tenant_ids):
        if not admins[tenant_id]:
            log.warning("Tenant %s has reconciliation findings but no admin with an e-mail address", tenant_id)
            continue
        tenant, found = tenants[tenant_id], by_tenant[tenant_id]
        send_mail(
            subject=f"[Reconciliation] {tenant.name}: {len(found)} finding(s) in run #{run.pk}",
            message=_body(run, tenant, found),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=sorted(admins[tenant_id]),
        )


def _body(run, tenant, found) -> str:
    labels = dict(FindingType.choices)
    counts = Counter(str(f.type) for f in found)
    lines = [
        f"Reconciliation run #{run.pk} ({run.get_triggered_by_display().lower()},"
        f" started {run.started_at:%Y-%m-%d %H:%M} UTC) found {len(found)} disagreement(s)"
        f" in the books of {tenant.name}.",
        "",
        "By type:",
        *(f"  {n:>6}  {kind}  ({labels.get(kind, kind)})" for kind, n in sorted(counts.items())),
        "",
        f"First {min(LISTED, len(found))}:",
    ]
    order = {"critical": 0, "high": 1, "medium": 2}
    for finding in sorted(found, key=lambda f: (order.get(str(f.severity), 9), str(f.type), f.object_id))[:LISTED]:
        lines.append(
            f"  [{finding.severity}] {finding.type} {finding.object_type} {finding.object_id}:"
            f" expected {finding.expected}, found {finding.actual}"
        )
    lines += [
        "",
        f"All findings: GET /api/v1/admin/reconciliation/runs/{run.pk}/findings/",
        f"What each finding means and how to resolve it: {RUNBOOK}",
    ]
    return "\n".join(lines)
