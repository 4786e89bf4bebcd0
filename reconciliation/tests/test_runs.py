"""Runs: what they record and audit, overlap safety, idempotency, carried acknowledgements, alerts, failures."""

import logging
import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from core.actors import Actor
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.models import AuditEvent
from players.tests.factories import PlayerFactory
from reconciliation import checks, services
from reconciliation.errors import ReconciliationRunInProgress
from reconciliation.models import Finding, ReconciliationRun
from reconciliation.services import acknowledge_finding, resolve_finding
from tenants.models import OperatorMembership
from tenants.tests.factories import OperatorFactory, TenantFactory, UserFactory
from wallet.tests.builders import deposit_in_state

from .helpers import reconcile, sql

pytestmark = pytest.mark.django_db


def stuck_deposit(tenant=None):
    """A deposit left at the PSP for two days: the simplest honest finding."""
    deposit = deposit_in_state("pending_provider", player=PlayerFactory(tenant=tenant or TenantFactory()))
    sql("UPDATE wallet_deposit SET updated_at = now() - interval '2 days' WHERE id = %s", [deposit.pk])
    return deposit


def audit(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


class OtherSession:
    """Another PostgreSQL session, as another process running reconciliation would have."""

    def __init__(self):
        params = connection.get_connection_params()
        self.conn = psycopg.connect(
            dbname=connection.settings_dict["NAME"],
            **{k: params[k] for k in ("host", "port", "user") if k in params},
            autocommit=True,
        )

    def lock(self, objid: int, *, shared: bool = False) -> None:
        mode = "_shared" if shared else ""
        self.conn.execute(f"SELECT pg_advisory_lock{mode}(%s, %s)", [services.LOCK_CLASS, objid])

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def other_session():
    session = OtherSession()
    yield session
    session.close()


def test_a_run_is_recorded_with_its_counts_and_audited():
    # given a tenant with a stuck deposit
    deposit = stuck_deposit()
    # when every tenant is reconciled from the command line's point of view
    run = reconcile(triggered_by=ReconciliationRun.Trigger.COMMAND)
    # then the run is recorded with who started it, when, and what it found
    run.refresh_from_db()
    assert (run.status, run.tenant_id, run.triggered_by, run.actor_type, run.actor_label) == (
        "succeeded",
        None,
        "command",
        "system",
        "tests",
    )
    assert run.started_at <= run.finished_at
    assert (run.findings_count, run.open_count) == (1, 1)
    assert (run.counts_by_type, run.counts_by_severity) == ({"stuck_deposit": 1}, {"medium": 1})
    assert run.stats["checks"]["stuck_transactions"]["findings"] == 1
    stored = Finding.objects.get(run=run)
    assert (stored.tenant_id, stored.object_id, stored.status) == (deposit.tenant_id, str(deposit.pk), "open")
    assert stored.key == f"stuck_deposit:deposit:{deposit.pk}"
    # and its start and end are in the audit trail
    (started,) = audit("reconciliation.run_started")
    (succeeded,) = audit("reconciliation.run_succeeded")
    assert (started.target_type, started.target_id, started.after_state) == (
        "reconciliationrun",
        str(run.pk),
        "running",
    )
    assert (succeeded.before_state, succeeded.after_state) == ("running", "succeeded")
    assert succeeded.data == {
        "findings": 1,
        "open": 1,
        "counts_by_type": {"stuck_deposit": 1},
        "mode": "full",
        "checkpoint": run.checkpoint.pk,  # an all-tenants run leaves one for the next incremental run
    }


def test_the_same_books_give_the_same_findings_every_run():
    # given books with one finding
    stuck_deposit()
    # when reconciled twice
    first, second = reconcile(), reconcile()
    # then both runs found the same thing, each as its own rows
    keys = [set(Finding.objects.filter(run=run).values_list("key", flat=True)) for run in (first, second)]
    assert keys[0] == keys[1] and len(keys[0]) == 1
    assert Finding.objects.count() == 2


# --- overlap safety ----------------------------------------------------------------------------


def test_a_run_is_refused_while_another_holds_its_scope(other_session):
    # given another session running an all-tenants reconciliation (it holds the global lock)
    tenant = TenantFactory()
    other_session.lock(services.ALL_TENANTS)
    # when a run over every tenant, and one over a single tenant, are asked for
    for scope in (None, tenant):
        with pytest.raises(ReconciliationRunInProgress) as refused:
            reconcile(scope)
        # then each is refused with a 409 and the stable code
        assert (refused.value.status, refused.value.error_code) == (409, "RECONCILIATION_RUN_IN_PROGRESS")
    # and nothing was recorded but the refusals in the audit trail
    assert not ReconciliationRun.objects.exists()
    assert [(e.action, e.data["scope"]) for e in audit("reconciliation.run_refused")] == [
        ("reconciliation.run_refused", "all"),
        ("reconciliation.run_refused", f"tenant:{tenant.pk}"),
    ]


def test_tenant_runs_exclude_their_tenant_and_all_tenants_runs_only(other_session):
    # given another session reconciling tenant a (shared global lock, exclusive lock of a)
    tenant_a, tenant_b = TenantFactory(), TenantFactory()
    other_session.lock(services.ALL_TENANTS, shared=True)
    other_session.lock(tenant_a.pk)
    # when tenant b, tenant a and every tenant are asked for
    run_b = reconcile(tenant_b)
    with pytest.raises(ReconciliationRunInProgress):
        reconcile(tenant_a)
    with pytest.raises(ReconciliationRunInProgress):
        reconcile()
    # then only tenant b ran, side by side with a's run
    assert run_b.status == "succeeded"
    assert list(ReconciliationRun.objects.values_list("tenant_id", flat=True)) == [tenant_b.pk]


def test_a_run_can_wait_for_the_one_in_progress(other_session):
    # given another session holding the global lock, which it releases after 0.3 s
    other_session.lock(services.ALL_TENANTS)
    release = threading.Timer(0.3, other_session.close)
    release.start()
    # when a run that may wait 10 s is asked for
    started = time.monotonic()
    run = reconcile(wait_seconds=10)
    # then it ran once the other finished
    release.join()
    assert run.status == "succeeded"
    assert 0.25 <= time.monotonic() - started < 10


def test_the_lock_is_released_after_a_run(other_session):
    # given a run that finished
    reconcile()
    # then another session can take the global lock at once
    got = other_session.conn.execute(
        "SELECT pg_try_advisory_lock(%s, %s)", [services.LOCK_CLASS, services.ALL_TENANTS]
    ).fetchone()[0]
    assert got is True


def test_a_run_left_running_by_a_crashed_process_is_closed():
    # given a run recorded as running whose process died (its lock went with its session)
    tenant = TenantFactory()
    dead = ReconciliationRun.objects.create(tenant=tenant, started_at=timezone.now() - timedelta(hours=1))
    other = ReconciliationRun.objects.create(tenant=TenantFactory(), started_at=timezone.now())
    # when the tenant is reconciled again
    run = reconcile(tenant)
    # then the dead run is closed as failed (audited), the new one succeeded, and another tenant's is left alone
    dead.refresh_from_db()
    other.refresh_from_db()
    assert (dead.status, run.status, other.status) == ("failed", "succeeded", "running")
    assert dead.error.startswith("Abandoned")
    assert [e.target_id for e in audit("reconciliation.run_abandoned")] == [str(dead.pk)]


def test_a_keyed_run_happens_once():
    # given a run with an idempotency key (as the nightly task gives)
    stuck_deposit()
    first = reconcile(key="nightly:2026-11-21")
    # when it is asked for again with the same key, then with another
    again, other = reconcile(key="nightly:2026-11-21"), reconcile(key="nightly:2026-11-22")
    # then the same run is returned the second time, and the other key runs
    assert again.pk == first.pk
    assert other.pk != first.pk
    assert ReconciliationRun.objects.count() == 2


# --- findings across runs ----------------------------------------------------------------------


def test_an_acknowledgement_carries_over_and_a_resolution_reopens_when_found_again():
    # given a finding acknowledged by an operator
    deposit = stuck_deposit()
    operator = Actor.operator(OperatorFactory(tenant=deposit.tenant).user)
    first = reconcile()
    acknowledge_finding(Finding.objects.get(run=first), actor=operator, note="Asked the PSP about it.")
    # when the books are reconciled again, the deposit still open
    second = reconcile()
    # then the new finding is acknowledged with the same note, and first seen at the first run
    carried = Finding.objects.get(run=second)
    assert (carried.status, carried.note, carried.acted_by_id) == (
        "acknowledged",
        "Asked the PSP about it.",
        operator.user_id,
    )
    assert carried.first_seen_at == Finding.objects.get(run=first).first_seen_at
    assert (second.findings_count, second.open_count) == (1, 0)
    # and once resolved, a run that finds it again reopens it
    resolve_finding(carried, actor=operator, note="The PSP confirmed the payment failed.")
    third = Finding.objects.get(run=reconcile())
    assert (third.status, third.note, third.detail["reopened"]) == ("open", "", True)
    assert third.first_seen_at > carried.first_seen_at


# --- alerts ------------------------------------------------------------------------------------


def test_findings_raise_an_alert_in_the_log_and_mail_each_tenants_admins(
    caplog, mailoutbox, django_capture_on_commit_callbacks
):
    # given two tenants with findings, each with an admin; one also has a viewer and an admin without e-mail
    tenant_a, tenant_b = TenantFactory(name="Aurora"), TenantFactory(name="Borealis")
    for tenant, email in ((tenant_a, "admin@aurora.test"), (tenant_b, "admin@borealis.test")):
        OperatorFactory(tenant=tenant, role=OperatorMembership.Role.ADMIN, user=UserFactory(email=email))
    OperatorFactory(tenant=tenant_a, role=OperatorMembership.Role.VIEWER, user=UserFactory(email="viewer@aurora.test"))
    OperatorFactory(tenant=tenant_a, role=OperatorMembership.Role.ADMIN, user=UserFactory(email=""))
    stuck_deposit(tenant_a), stuck_deposit(tenant_a), stuck_deposit(tenant_b)
    # when every tenant is reconciled and the run commits
    with caplog.at_level(logging.ERROR, logger="reconciliation.alerts"):
        with django_capture_on_commit_callbacks(execute=True):
            run = reconcile()
    # then one ERROR on reconciliation.alerts gives the counts by type
    (alert,) = [r for r in caplog.records if r.name == "reconciliation.alerts"]
    assert alert.levelno == logging.ERROR
    assert f"run {run.pk} (all) found 3 finding(s), 3 open: stuck_deposit=3" in alert.getMessage()
    # and each tenant's admins got an e-mail about their own findings only
    mails = {tuple(m.to): m for m in mailoutbox}
    assert set(mails) == {("admin@aurora.test",), ("admin@borealis.test",)}
    aurora = mails[("admin@aurora.test",)]
    assert aurora.subject == f"[Reconciliation] Aurora: 2 finding(s) in run #{run.pk}"
    assert "2  stuck_deposit" in aurora.body and "docs/runbooks/reconciliation.md" in aurora.body
    assert "1  stuck_deposit" in mails[("admin@borealis.test",)].body


def test_clean_books_raise_no_alert(caplog, mailoutbox, django_capture_on_commit_callbacks):
    OperatorFactory(role=OperatorMembership.Role.ADMIN, user=UserFactory(email="admin@example.test"))
    with caplog.at_level(logging.INFO, logger="reconciliation.alerts"):
        with django_capture_on_commit_callbacks(execute=True):
            reconcile()
    assert [r for r in caplog.records if r.name == "reconciliation.alerts"] == []
    assert mailoutbox == []


# --- failures ----------------------------------------------------------------------------------


def test_a_check_that_fails_fails_the_run_and_says_so(monkeypatch, caplog):
    # given a check that breaks (as a statement killed by a timeout would)
    def broken(scope):
        raise RuntimeError("canceling statement due to statement timeout")

    monkeypatch.setattr(checks, "CHECKS", [checks.wallet_balances, broken])
    # when reconciled
    with caplog.at_level(logging.ERROR, logger="reconciliation.alerts"):
        with pytest.raises(RuntimeError, match="statement timeout"):
            reconcile()
    # then the run is recorded as failed with the reason, audited and alerted; no findings were stored
    run = ReconciliationRun.objects.get()
    assert (run.status, run.error) == ("failed", "RuntimeError: canceling statement due to statement timeout")
    assert run.finished_at is not None
    assert [e.after_state for e in audit("reconciliation.run_failed")] == ["failed"]
    assert any("failed" in r.getMessage() for r in caplog.records if r.name == "reconciliation.alerts")
    assert not Finding.objects.exists()
    # and once the check works again, the scope is free for the next run
    monkeypatch.undo()
    assert reconcile().status == "succeeded"


# --- who may run -------------------------------------------------------------------------------


def test_operators_reconcile_their_own_tenant_only():
    # given a finance operator of tenant a, and a platform superuser
    tenant_a, tenant_b = TenantFactory(), TenantFactory()
    operator = Actor.operator(OperatorFactory(tenant=tenant_a).user)
    platform = Actor.operator(UserFactory(is_superuser=True, is_staff=True))
    # then the operator may reconcile tenant a, but not tenant b (not found) or every tenant (forbidden)
    assert services.run_reconciliation(tenant_a, actor=operator).status == "succeeded"
    with pytest.raises(NotFound):
        services.run_reconciliation(tenant_b, actor=operator)
    with pytest.raises(PermissionDenied):
        services.run_reconciliation(None, actor=operator)
    # and the platform superuser may reconcile every tenant
    assert services.run_reconciliation(None, actor=platform).tenant_id is None


def test_an_unknown_tenant_is_not_found_and_an_id_as_text_is_understood():
    tenant = TenantFactory()
    with pytest.raises(NotFound):
        reconcile(10**9)
    assert reconcile(str(tenant.pk)).tenant_id == tenant.pk
    assert ReconciliationRun.objects.count() == 1


def test_a_settlement_file_needs_a_tenant_and_a_day(tmp_path):
    with pytest.raises(ValidationFailed):
        reconcile(settlement_file=str(tmp_path / "x.csv"), settlement_date=timezone.now().date())
    with pytest.raises(ValidationFailed):
        reconcile(TenantFactory(), settlement_file=str(tmp_path / "x.csv"))
    assert not ReconciliationRun.objects.exists()
