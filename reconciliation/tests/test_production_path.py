"""Runs as production makes them: committed data, their own transactions, other sessions at work.

Here no test transaction wraps the run (transaction=True), so run_reconciliation opens
its own REPEATABLE READ, READ ONLY snapshot, takes real session locks and commits.
"""

import time

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEvent
from players.tests.factories import PlayerFactory
from reconciliation import checks
from reconciliation.errors import ReconciliationRunInProgress
from reconciliation.models import FindingType, ReconciliationRun
from wallet.models import Wallet
from wallet.tests.concurrency import run_together
from wallet.tests.factories import fund

from .helpers import found, reconcile
from .test_settlement import Casino

pytestmark = pytest.mark.django_db(transaction=True)


def _other_session():
    params = connection.get_connection_params()
    return psycopg.connect(
        dbname=connection.settings_dict["NAME"],
        **{k: params[k] for k in ("host", "port", "user") if k in params},
        autocommit=True,
    )


@pytest.mark.parametrize("sessions", [1, 2], ids=["one session", "two sessions on the exported snapshot"])
def test_every_check_reads_one_snapshot(monkeypatch, sessions):
    # given a funded wallet, and another session that changes its balance while the checks run
    wallet = fund(PlayerFactory(), 10_00)

    def meanwhile(scope):
        with _other_session() as other:
            other.execute("UPDATE wallet_wallet SET balance_available = 1 WHERE id = %s", [wallet.pk])
        return []

    monkeypatch.setattr(checks, "CHECKS", [meanwhile, checks.wallet_balances])
    # when reconciled
    with CaptureQueriesContext(connection) as queries:
        during = reconcile(sessions=sessions)
    # then the wallet check saw the books as they were when the run's snapshot was taken
    assert during.findings_count == 0
    assert any("REPEATABLE READ, READ ONLY" in q["sql"] for q in queries)
    assert during.stats["sessions"] == sessions
    # and the next run sees the change
    monkeypatch.undo()
    after = reconcile()
    assert found(after) == {(FindingType.WALLET_AVAILABLE_MISMATCH, "wallet", str(wallet.pk))}
    assert Wallet.objects.get(pk=wallet.pk).balance_available == 1


def test_two_runs_started_together_one_runs_and_one_is_refused(monkeypatch):
    # given checks that take a while, so the two runs overlap
    def slow(scope):
        time.sleep(0.5)
        return []

    monkeypatch.setattr(checks, "CHECKS", [slow, *checks.CHECKS])
    # when two processes start a run over every tenant at the same moment
    outcomes = run_together(2, lambda _: reconcile())
    # then one ran to the end and the other was refused; nothing was left half done
    refused = [o.error for o in outcomes if o.error is not None]
    assert len(refused) == 1 and isinstance(refused[0], ReconciliationRunInProgress)
    assert list(ReconciliationRun.objects.values_list("status", flat=True)) == ["succeeded"]
    assert AuditEvent.objects.filter(action="reconciliation.run_refused").count() == 1


def test_a_check_that_fails_in_another_session_fails_the_run(monkeypatch):
    # given one of the checks breaks while the others run in parallel sessions
    def broken(scope):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(checks, "CHECKS", [checks.wallet_balances, broken, checks.stuck_transactions])
    # when reconciled
    with pytest.raises(RuntimeError, match="out of memory"):
        reconcile(sessions=2)
    # then the run is failed, not half stored, and the next run can start
    assert list(ReconciliationRun.objects.values_list("status", "error")) == [("failed", "RuntimeError: out of memory")]
    monkeypatch.undo()
    assert reconcile(sessions=2).status == "succeeded"


def test_the_settlement_report_is_fetched_over_http(live_server, settings):
    # given a casino whose money moved through the sandbox PSP today, and the PSP served over HTTP
    casino = Casino()
    deposit, withdrawal = casino.paid_deposit(), casino.paid_withdrawal()
    settings.ROOT_URLCONF = "payouts.sandbox.urls"
    casino.account.base_url = live_server.url
    casino.account.save()
    # and the PSP's books say the payout was 1 cent more
    from payouts.sandbox.models import SandboxPayout

    SandboxPayout.objects.update(amount=withdrawal.amount + 1)
    # when the tenant is reconciled with today's settlement
    run = reconcile(casino.tenant, settlement_date=timezone.now().date())
    # then the report came over HTTP with the account's key, and the payout disagrees
    ((report),) = run.stats["settlement_reports"]
    assert report["source"] == f"{live_server.url}/v1/settlements/{timezone.now().date().isoformat()}.csv"
    assert (report["rows"], report["error"]) == (2, "")
    assert found(run) == {(FindingType.SETTLEMENT_AMOUNT_MISMATCH, "withdrawal", str(withdrawal.pk))}
    assert deposit.state == "completed"
