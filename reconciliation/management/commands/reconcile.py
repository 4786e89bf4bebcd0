"""`python manage.py reconcile`: run the invariant checks now, optionally with a PSP settlement day.

    manage.py reconcile                                  # every tenant
    manage.py reconcile --tenant aurora                  # one tenant (slug or id)
    manage.py reconcile --settlement-date yesterday      # and compare the PSP's report of that UTC day
    manage.py reconcile --tenant aurora --settlement-date 2026-11-20 --settlement-file report.csv
    manage.py reconcile --mode incremental               # only what changed since the last checkpoint

Exits 1 when the run could not start (another run over the scope is in progress,
unless --wait gives it time) or failed; with --fail-on-findings, exits 2 when the run
left open findings, for cron-style monitoring.
"""

import json
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.actors import Actor
from core.errors import DomainError
from reconciliation.models import FindingType, ReconciliationRun
from reconciliation.services import run_reconciliation
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Reconcile wallets, ledger and payouts (and a PSP settlement day) and record the run with its findings."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Slug or id of one tenant; default: every tenant.")
        parser.add_argument(
            "--settlement-date",
            help="Also compare the PSP settlement report of this UTC day (YYYY-MM-DD or yesterday).",
        )
        parser.add_argument("--settlement-file", help="Read the settlement report from this CSV instead of the PSP.")
        parser.add_argument(
            "--mode",
            choices=ReconciliationRun.Mode.values,
            default=ReconciliationRun.Mode.FULL,
            help="full (default): every row; incremental: what changed since the last checkpoint (full if none).",
        )
        parser.add_argument("--wait", type=float, default=0.0, help="Seconds to wait for a run in progress.")
        parser.add_argument("--key", default="", help="Idempotency key: a run with it that succeeded is not repeated.")
        parser.add_argument("--json", action="store_true", help="Print the run as JSON.")
        parser.add_argument("--fail-on-findings", action="store_true", help="Exit 2 if open findings remain.")

    def handle(self, *args, **options):
        tenant = _tenant(options["tenant"]) if options["tenant"] else None
        day = _day(options["settlement_date"]) if options["settlement_date"] else None
        try:
            run = run_reconciliation(
                tenant,
                actor=Actor.system("manage.py reconcile"),
                triggered_by=ReconciliationRun.Trigger.COMMAND,
                settlement_date=day,
                settlement_file=options["settlement_file"],
                key=options["key"],
                wait_seconds=options["wait"],
                mode=options["mode"],
            )
        except DomainError as refusal:
            raise CommandError(f"{refusal.error_code}: {refusal.detail}") from None
        if options["json"]:
            self.stdout.write(json.dumps(_as_dict(run), indent=2))
        else:
            self._summary(run)
        if options["fail_on_findings"] and run.open_count:
            raise SystemExit(2)

    def _summary(self, run: ReconciliationRun) -> None:
        scope = run.tenant.slug if run.tenant_id else "all tenants"
        seconds = (run.finished_at - run.started_at).total_seconds()
        self.stdout.write(
            f"Reconciliation run #{run.pk} ({scope}, {run.mode}"
            + (f", settlement {run.settlement_date}" if run.settlement_date else "")
            + f"): {run.status} in {seconds:.2f} s, {run.findings_count} finding(s), {run.open_count} open."
        )
        labels = dict(FindingType.choices)
        for kind, count in run.counts_by_type.items():
            self.stdout.write(f"  {count:>7}  {kind}  ({labels.get(kind, kind)})")
        style = self.style.WARNING if run.findings_count else self.style.SUCCESS
        self.stdout.write(
            style("Books disagree: see docs/runbooks/reconciliation.md." if run.findings_count else "Books agree.")
        )


def _tenant(value: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=value).first()
    if tenant is None and value.isdigit():
        tenant = Tenant.objects.filter(pk=int(value)).first()
    if tenant is None:
        raise CommandError(f"No tenant {value!r}.")
    return tenant


def _day(value: str) -> date:
    if value == "yesterday":
        return timezone.now().date() - timedelta(days=1)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--settlement-date must be YYYY-MM-DD or yesterday, not {value!r}.") from None


def _as_dict(run: ReconciliationRun) -> dict:
    return {
        "id": run.pk,
        "tenant": run.tenant.slug if run.tenant_id else None,
        "status": run.status,
        "triggered_by": run.triggered_by,
        "mode": run.mode,
        "settlement_date": run.settlement_date.isoformat() if run.settlement_date else None,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "findings": run.findings_count,
        "open": run.open_count,
        "counts_by_type": run.counts_by_type,
        "counts_by_severity": run.counts_by_severity,
        "stats": run.stats,
    }
