"""A real streaming replica of the test cluster (tests/streaming_replica.py) behind DATABASE_REPLICA_URL.

Console lists and the operator API's lists read it; money writes, decisions and the pages
operators act from never touch it; a browser reads its own writes; a run of reconciliation
reads one snapshot there only when the replica has everything the primary has; and when the
replica lags past the limit or is down, every page, run and payment works from the primary.

The tests commit (`transaction=True`): only committed rows reach a replica. Which server a
page read is seen from the statements on each connection and, more plainly, from what the
page shows while the replica's replay is paused: a row written on the primary meanwhile.
"""

import contextlib
import logging
import time
from contextlib import contextmanager

import pytest
from django.db import connections
from django.utils import timezone

from backoffice.tests.console.helpers import AUDIT, QUEUE, decide, detail_url, sign_in
from core import replica
from core.actors import Actor
from players.tests.factories import PlayerFactory
from reconciliation import checks, services
from reconciliation.checks import Scope
from reconciliation.services import run_reconciliation
from tenants.tests.factories import TenantFactory
from wallet.models import Withdrawal
from wallet.tests.api.helpers import client_for, withdrawal_request
from wallet.tests.factories import fund
from wallet.tests.staff import FINANCE, VIEWER, operator_user

from .streaming_replica import StreamingReplica, Unavailable

PLAYERS = "/console/players/"
RECONCILIATION = "/console/reconciliation/"
API_QUEUE = "/api/v1/admin/withdrawals/"
API_AUDIT = "/api/v1/admin/audit-events/"
SYSTEM = Actor.system("tests")

# The replica is a mirror of the test database: allowed in the tests, never flushed by them.
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", replica.REPLICA])


@pytest.fixture(scope="module", autouse=True)
def streaming_replica(django_db_setup):
    """One replica for the module (the copy takes a few seconds), as the `replica` database alias."""
    db = connections["default"].settings_dict
    server = StreamingReplica(
        host=db["HOST"] or "127.0.0.1", port=int(db["PORT"] or 5432), user=db["USER"], dbname=db["NAME"]
    )
    try:
        server.create()
    except Unavailable as reason:
        server.destroy()
        pytest.skip(f"cannot make a streaming replica on this machine: {reason}")
    except BaseException:
        server.destroy()
        raise
    connections.settings[replica.REPLICA] = {
        **db,
        "PORT": str(server.port),
        "OPTIONS": {**db["OPTIONS"], "connect_timeout": 2},
        "TEST": {**db["TEST"], "MIRROR": "default"},
    }
    try:
        yield server
    finally:
        replica.forget()
        replica.discard()
        with contextlib.suppress(AttributeError):
            del connections[replica.REPLICA]
        del connections.settings[replica.REPLICA]
        server.destroy()


@pytest.fixture
def standby(streaming_replica, settings):
    """The replica, replaying and caught up, probed at every choice of a server."""
    if not streaming_replica.running:
        streaming_replica.start()
    streaming_replica.resume()
    streaming_replica.wait_until_caught_up()
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 5
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0  # the tests move the replica between two reads
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "core.replica.PrimaryAfterWriteMiddleware"]
    replica.forget()
    yield streaming_replica
    replica.forget()
    replica.discard()
    if streaming_replica.running:
        streaming_replica.resume()  # the flush after this test must reach it before the next one


@contextmanager
def statements_on(alias: str):
    """The SQL run on `alias` in this thread meanwhile."""
    seen: list[str] = []

    def note(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connections[alias].execute_wrapper(note):
        yield seen


def touching(statements: list[str], table: str) -> list[str]:
    return [sql for sql in statements if table in sql]


def casino():
    tenant = TenantFactory(allowed_currencies=["EUR"])
    player = PlayerFactory(tenant=tenant)
    fund(player, 500_00)
    return tenant, player


def request_withdrawal(player, amount: str = "10.00") -> str:
    """The player asks for money through the player API; returns the withdrawal's reference."""
    response = withdrawal_request(client_for(player), amount)
    assert response.status_code == 201, response.content[:500]
    return response.json()["reference"]


def lag_exceeds(seconds: float, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while (replica.probe().lag or 0) <= seconds:
        assert time.monotonic() < deadline, "the paused replica's lag did not grow"
        time.sleep(0.05)


def test_lists_read_the_replica_until_it_lags_past_the_limit(standby, settings):
    # given a casino whose first withdrawal the replica has
    tenant, player = casino()
    first = request_withdrawal(player)
    standby.wait_until_caught_up()
    console = sign_in(operator_user(tenant, VIEWER))
    api = client_for(operator_user(tenant, VIEWER))

    # when a viewer opens the queue, the audit trail and the operator API's lists
    with statements_on(replica.REPLICA) as seen:
        queue = console.get(QUEUE)
        audit = console.get(AUDIT)
        listed = api.get(API_QUEUE)
        events = api.get(API_AUDIT)
    # then they were read on the replica
    assert queue.status_code == audit.status_code == listed.status_code == events.status_code == 200
    assert first in queue.content.decode()
    assert [row["reference"] for row in listed.json()["results"]] == [first]
    assert touching(seen, "wallet_withdrawal") and touching(seen, "wallet_auditevent")

    # when replay stops and the player asks for money again: the write is the primary's and succeeds
    standby.pause()
    with statements_on(replica.REPLICA) as seen:
        second = request_withdrawal(player)
    assert seen == []
    assert Withdrawal.objects.filter(reference=second).exists()

    # then, while the replica is behind by less than the limit, the lists are its own: without it
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 60
    queue = console.get(QUEUE).content.decode()
    assert first in queue and second not in queue
    assert [row["reference"] for row in api.get(API_QUEUE).json()["results"]] == [first]

    # and once it is behind by more, the same lists come from the primary, with it
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.5
    lag_exceeds(0.5)
    with statements_on(replica.REPLICA) as seen:
        queue = console.get(QUEUE).content.decode()
        listed = api.get(API_QUEUE).json()
    assert first in queue and second in queue
    assert {row["reference"] for row in listed["results"]} == {first, second}
    assert touching(seen, "wallet_withdrawal") == []

    # when replay resumes, the replica has it and serves the lists again
    standby.resume()
    standby.wait_until_caught_up()
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 5
    with statements_on(replica.REPLICA) as seen:
        queue = console.get(QUEUE).content.decode()
    assert second in queue
    assert touching(seen, "wallet_withdrawal")


def test_decisions_stay_on_the_primary_and_the_deciding_browser_reads_its_own_write(standby, settings):
    # given a withdrawal the replica has, and then a replica that replays nothing more
    tenant, player = casino()
    reference = request_withdrawal(player)
    withdrawal = Withdrawal.objects.get(reference=reference)
    finance = sign_in(operator_user(tenant, FINANCE))
    viewer = sign_in(operator_user(tenant, VIEWER))
    standby.wait_until_caught_up()
    standby.pause()
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 60  # still within the limit: lists keep reading it

    # when finance opens the withdrawal and approves it (form, confirmation, decision)
    with statements_on(replica.REPLICA) as seen:
        page = finance.get(detail_url(withdrawal.pk))
        done = decide(finance, withdrawal, "approve")
        after = finance.get(detail_url(withdrawal.pk))
    # then the page, the lock and the write were the primary's alone
    assert page.status_code == 200 and done.status_code == 302
    assert seen == []
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "approved"
    assert "approved" in after.content.decode().lower()

    # and the browser that decided reads its own write in the lists for a few seconds (the primary)
    assert int(done.cookies[replica.PIN_COOKIE]["max-age"]) == replica.pin_seconds()
    with statements_on(replica.REPLICA) as seen:
        approved = finance.get(QUEUE, {"state": "approved"}).content.decode()
    assert reference in approved
    assert touching(seen, "wallet_withdrawal") == []
    # while another operator's browser, which wrote nothing, reads the paused replica: not there yet
    assert reference not in viewer.get(QUEUE, {"state": "approved"}).content.decode()


def test_reconciliation_reads_one_snapshot_on_the_replica_only_when_it_has_everything(standby, settings):
    # given books the replica has
    tenant, player = casino()
    request_withdrawal(player)
    standby.wait_until_caught_up()

    # when a run checks them
    run = run_reconciliation(tenant, actor=SYSTEM)
    # then every check read the replica, in one snapshot shared by its two sessions, and found nothing
    assert run.status == "succeeded" and run.findings_count == 0
    assert run.stats["database"] == replica.REPLICA and run.stats["sessions"] == 2

    # when replay stops and money moves on the primary meanwhile
    standby.pause()
    for _ in range(3):
        request_withdrawal(player)
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 1  # also how long a run waits for the replica to catch up
    run = run_reconciliation(tenant, actor=SYSTEM)
    # then the run reads the primary, which has every commit: no finding, false or missed
    assert run.status == "succeeded" and run.findings_count == 0
    assert run.stats["database"] == replica.PRIMARY
    # and an API client asking for that run's findings at once gets them: the replica has no such
    # run yet, and what it has not got is looked for on the primary before answering 404
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 60
    api = client_for(operator_user(tenant, VIEWER))
    with statements_on(replica.REPLICA) as seen:
        listed = api.get(f"/api/v1/admin/reconciliation/runs/{run.pk}/findings/")
    assert listed.status_code == 200 and listed.json()["count"] == 0
    assert touching(seen, "reconciliation_reconciliationrun")

    # and the stale replica's own snapshot is consistent all the same: balances, ledger and states
    # of each transaction are replayed together, so the cross-table checks find nothing there either
    with services.snapshot(alias=replica.REPLICA) as (exported, _seen):
        results = checks.run_checks(Scope(tenant_id=tenant.pk, as_of=timezone.now()), snapshot_id=exported, sessions=2)
    assert [r.findings for r in results] == [[] for _ in results]
    assert standby.sql("SELECT count(*) FROM wallet_withdrawal")[0][0] == 1  # it was stale indeed


def test_when_the_replica_is_down_pages_runs_and_money_work_from_the_primary(standby, settings, caplog, monkeypatch):
    monkeypatch.setattr(replica.log, "disabled", False)  # an in-process tool's dictConfig may have disabled it
    # given a replica serving the queue, remembered healthy by this process for a minute
    tenant, player = casino()
    reference = request_withdrawal(player)
    standby.wait_until_caught_up()
    console = sign_in(operator_user(tenant, VIEWER))
    api = client_for(operator_user(tenant, VIEWER))
    settings.DATABASE_REPLICA_CHECK_SECONDS = 60
    replica.forget()
    with statements_on(replica.REPLICA) as seen:
        assert reference in console.get(QUEUE).content.decode()
    assert touching(seen, "wallet_withdrawal")

    # when the replica stops
    standby.stop()

    # then a page that still counts on it fails over to the primary within the request
    with caplog.at_level(logging.WARNING, logger="core.replica"):
        page = console.get(QUEUE)
    assert page.status_code == 200 and reference in page.content.decode()
    assert "failed during" in caplog.text
    # and, probed again, every list goes to the primary
    for url in (QUEUE, AUDIT, PLAYERS, RECONCILIATION):
        assert console.get(url).status_code == 200, url
    assert [row["reference"] for row in api.get(API_QUEUE).json()["results"]] == [reference]
    assert not replica.health().usable

    # and money moves and reconciliation runs, on the primary
    second = request_withdrawal(player)
    run = run_reconciliation(tenant, actor=SYSTEM)
    assert run.status == "succeeded" and run.findings_count == 0
    assert run.stats["database"] == replica.PRIMARY
    assert second in console.get(QUEUE).content.decode()
