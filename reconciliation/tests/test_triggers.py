"""The ways a run starts: `manage.py reconcile`, the nightly Celery task on its beat schedule."""

import json
from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from reconciliation import services, tasks
from reconciliation.models import ReconciliationRun
from tenants.tests.factories import TenantFactory

from .test_runs import OtherSession, stuck_deposit

pytestmark = pytest.mark.django_db


def test_the_command_reconciles_every_tenant_and_prints_a_summary(capsys):
    # given a stuck deposit
    stuck_deposit()
    # when the command runs
    call_command("reconcile")
    # then a run by the command is recorded and summarized
    run = ReconciliationRun.objects.get()
    assert (run.triggered_by, run.actor_label, run.tenant_id) == ("command", "manage.py reconcile", None)
    out = capsys.readouterr().out
    assert f"Reconciliation run #{run.pk} (all tenants, full): succeeded" in out
    assert "1  stuck_deposit" in out and "Books disagree" in out


def test_the_command_for_one_tenant_with_a_settlement_day_as_json(capsys):
    tenant = TenantFactory(slug="aurora")
    call_command("reconcile", "--tenant", "aurora", "--settlement-date", "yesterday", "--json")
    printed = json.loads(capsys.readouterr().out)
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert (printed["tenant"], printed["settlement_date"], printed["findings"]) == ("aurora", yesterday, 0)
    assert ReconciliationRun.objects.get().tenant_id == tenant.pk


def test_the_command_fails_on_findings_when_asked():
    stuck_deposit()
    with pytest.raises(SystemExit) as exited:
        call_command("reconcile", "--fail-on-findings")
    assert exited.value.code == 2


def test_the_command_refuses_bad_input_and_reports_a_run_in_progress():
    with pytest.raises(CommandError, match="No tenant"):
        call_command("reconcile", "--tenant", "nope")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("reconcile", "--settlement-date", "21/11/2026")
    with pytest.raises(CommandError, match="needs a tenant|give the tenant"):
        call_command("reconcile", "--settlement-date", "2026-11-20", "--settlement-file", "x.csv")
    other = OtherSession()
    try:
        other.lock(services.ALL_TENANTS)
        with pytest.raises(CommandError, match="RECONCILIATION_RUN_IN_PROGRESS"):
            call_command("reconcile")
    finally:
        other.close()


def test_the_nightly_task_runs_once_a_night_with_yesterdays_settlement():
    # given the nightly task ran
    stuck_deposit()
    first = tasks.nightly_run.delay().get()
    # when it is delivered again the same night (a redelivery after a worker restart)
    again = tasks.nightly_run.delay().get()
    # then there is one run: every tenant, by the schedule, with yesterday's settlement day;
    # incremental asked, full done, as there was no checkpoint to start from yet
    run = ReconciliationRun.objects.get()
    today = timezone.now().date()
    assert (run.key, run.triggered_by, run.tenant_id) == (f"nightly:{today}", "schedule", None)
    assert run.settlement_date == today - timedelta(days=1)
    assert (run.mode, run.stats["requested_mode"]) == ("full", "incremental")
    assert first == again == f"run {run.pk} (full): succeeded, 1 finding(s)"


def test_the_nightly_task_runs_incrementally_from_the_last_checkpoint():
    # given a full run left a checkpoint
    stuck_deposit()
    full = tasks.weekly_full_run.delay().get()
    # when the nightly task runs
    nightly = tasks.nightly_run.delay().get()
    # then it reads only what changed since, and finds the same stuck deposit again
    weekly, night = ReconciliationRun.objects.order_by("id")
    assert (weekly.key, weekly.mode, weekly.settlement_date) == (f"weekly:{timezone.now().date()}", "full", None)
    assert (night.mode, night.stats["since_checkpoint"]) == ("incremental", weekly.checkpoint.pk)
    assert full == f"run {weekly.pk} (full): succeeded, 1 finding(s)"
    assert nightly == f"run {night.pk} (incremental): succeeded, 1 finding(s)"


def test_the_nightly_task_is_on_the_beat_schedule_at_0330_utc():
    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "reconciliation.nightly_run"]
    assert entry["schedule"] == crontab(hour=3, minute=30)
    assert settings.CELERY_TIMEZONE == "UTC"
    assert tasks.nightly_run.name == "reconciliation.nightly_run"


def test_the_weekly_full_run_is_on_the_beat_schedule_on_sundays_after_the_nightly_one():
    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "reconciliation.weekly_full_run"]
    assert entry["schedule"] == crontab(hour=4, minute=30, day_of_week="sun")
    assert tasks.weekly_full_run.name == "reconciliation.weekly_full_run"
