"""Celery tasks: the nightly incremental run (beat, 03:30 UTC), the weekly full run (Sundays, 04:30 UTC)
and a run on request. All call the service."""

import logging
from datetime import timedelta

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.actors import Actor
from reconciliation.errors import ReconciliationRunInProgress
from reconciliation.models import ReconciliationRun
from reconciliation.services import run_reconciliation

log = logging.getLogger(__name__)

RETRY_SECONDS = 300


@shared_task(bind=True, name="reconciliation.nightly_run", acks_late=True, max_retries=12)
def nightly_run(self, tenant_id: int | None = None, mode: str = ReconciliationRun.Mode.INCREMENTAL) -> str:
    """Every tenant's books, incrementally (since the last checkpoint), and yesterday's PSP settlement reports (UTC).

    Keyed by the date, so a redelivered or repeated task returns the night's run
    instead of making a second one; a run in progress makes it wait and try again.
    """
    today = timezone.now().date()
    key = f"nightly:{today.isoformat()}" + (f":{tenant_id}" if tenant_id else "")
    return _scheduled(self, "nightly", tenant_id, key, mode, settlement_date=today - timedelta(days=1))


@shared_task(bind=True, name="reconciliation.weekly_full_run", acks_late=True, max_retries=12)
def weekly_full_run(self, tenant_id: int | None = None) -> str:
    """Every tenant's books in full: all history, including rows an incremental run cannot see changed.

    Keyed by the date like the nightly run; its clean result is the next nights' checkpoint.
    """
    key = f"weekly:{timezone.now().date().isoformat()}" + (f":{tenant_id}" if tenant_id else "")
    return _scheduled(self, "weekly", tenant_id, key, ReconciliationRun.Mode.FULL)


def _scheduled(task, name: str, tenant_id, key: str, mode: str, settlement_date=None) -> str:
    try:
        run = run_reconciliation(
            tenant_id,
            actor=Actor.system(f"{name} reconciliation"),
            triggered_by=ReconciliationRun.Trigger.SCHEDULE,
            settlement_date=settlement_date,
            key=key,
            mode=mode,
        )
    except ReconciliationRunInProgress:
        log.info("The %s reconciliation waits for a run in progress; retrying in %s s", name, RETRY_SECONDS)
        raise task.retry(countdown=RETRY_SECONDS) from None
    return f"run {run.pk} ({run.mode}): {run.status}, {run.findings_count} finding(s)"


@shared_task(name="reconciliation.run")
def run(
    tenant_id: int | None = None,
    user_id: int | None = None,
    triggered_by: str = "api",
    mode: str = ReconciliationRun.Mode.FULL,
) -> int:
    """A run asked for by an operator (API or console), off the request path; returns the run id."""
    user = get_user_model().objects.get(pk=user_id) if user_id else None
    actor = Actor.operator(user) if user else Actor.system("reconciliation task")
    return run_reconciliation(tenant_id, actor=actor, triggered_by=triggered_by, mode=mode).pk
