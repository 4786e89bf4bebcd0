"""Celery tasks: the nightly run (beat, 03:30 UTC) and a run on request. Both call the service."""

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
def nightly_run(self, tenant_id: int | None = None) -> str:
    """Every tenant's books, and yesterday's PSP settlement reports (UTC).

    Keyed by the date, so a redelivered or repeated task returns the night's run
    instead of making a second one; a run in progress makes it wait and try again.
    """
    today = timezone.now().date()
    key = f"nightly:{today.isoformat()}" + (f":{tenant_id}" if tenant_id else "")
    try:
        run = run_reconciliation(
            tenant_id,
            actor=Actor.system("nightly reconciliation"),
            triggered_by=ReconciliationRun.Trigger.SCHEDULE,
            settlement_date=today - timedelta(days=1),
            key=key,
        )
    except ReconciliationRunInProgress:
        log.info("Nightly reconciliation waits for a run in progress; retrying in %s s", RETRY_SECONDS)
        raise self.retry(countdown=RETRY_SECONDS) from None
    return f"run {run.pk}: {run.status}, {run.findings_count} finding(s)"


@shared_task(name="reconciliation.run")
def run(tenant_id: int | None = None, user_id: int | None = None, triggered_by: str = "api") -> int:
    """A run asked for by an operator (API or console), off the request path; returns the run id."""
    user = get_user_model().objects.get(pk=user_id) if user_id else None
    actor = Actor.operator(user) if user else Actor.system("reconciliation task")
    return run_reconciliation(tenant_id, actor=actor, triggered_by=triggered_by).pk
