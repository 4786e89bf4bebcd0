"""core.replica's rules without a replica server: where reads go, when the replica is probed,
what a failure during a read does, where writes go, and the read-your-writes cookie.

tests/test_streaming_replica.py proves the same against a real streaming replica.
"""

import contextlib
import logging

import pytest
from django.db import OperationalError, connections, transaction
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from core import replica
from core.replica import PRIMARY, REPLICA, Health


@pytest.fixture
def alias():
    """A `replica` database alias that nothing connects to (its health is the tests' to say)."""
    connections.settings[REPLICA] = {**connections[PRIMARY].settings_dict, "PORT": "1"}
    replica.forget()
    yield
    replica.forget()
    with contextlib.suppress(AttributeError):
        del connections[REPLICA]
    del connections.settings[REPLICA]


def reports(health: Health):
    def probe():
        return Health(health.usable, health.lag, health.reason, replica.time.monotonic(), health.unreachable)

    return probe


@pytest.fixture
def healthy(alias, monkeypatch, settings):
    """A replica the probe finds caught up; yields the list of probes made."""
    settings.DATABASE_REPLICA_CHECK_SECONDS = 10
    probes = []

    def probe():
        probes.append(1)
        return Health(True, 0.0, at=replica.time.monotonic())

    monkeypatch.setattr(replica, "probe", probe)
    return probes


def test_without_a_replica_every_read_is_the_primarys():
    # given no DATABASE_REPLICA_URL (the test settings have none)
    assert not replica.configured()
    # then a list view reads the primary
    seen = []
    replica.reads(lambda request: seen.append(replica.read_alias()))(RequestFactory().get("/"))
    assert seen == [PRIMARY] and replica.choose() == PRIMARY


def test_outside_a_reading_view_reads_are_the_primarys(healthy):
    # given a healthy replica, then code that did not opt in reads the primary
    assert replica.read_alias() == PRIMARY
    with replica.reading(REPLICA):
        assert replica.read_alias() == REPLICA
    assert replica.read_alias() == PRIMARY


@pytest.mark.django_db(transaction=True)
def test_a_read_inside_a_transaction_is_the_primarys_whatever_the_view_chose(healthy):
    with replica.reading(REPLICA):
        assert replica.read_alias() == REPLICA
        # when the code opens a transaction (a write or a lock may follow), its reads stay with it
        with transaction.atomic():
            assert replica.read_alias() == PRIMARY
            assert replica.choose() == PRIMARY
            assert replica.reading_connection() is connections[PRIMARY]


def test_the_replica_is_probed_at_most_every_check_interval(healthy, settings):
    for _ in range(5):
        assert replica.choose() == REPLICA
    assert len(healthy) == 1
    replica.forget()
    replica.choose()
    assert len(healthy) == 2


def test_a_replica_behind_by_more_than_the_limit_or_not_a_standby_is_not_read(alias, monkeypatch, settings):
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 5
    for lag, chosen in ((0.0, REPLICA), (4.9, REPLICA), (5.1, PRIMARY), (None, PRIMARY)):
        monkeypatch.setattr(replica, "probe", reports(Health(True, lag)))
        replica.forget()
        assert replica.choose() == chosen, lag
    monkeypatch.setattr(replica, "probe", reports(Health(False, None, "not a standby")))
    replica.forget()
    assert replica.choose() == PRIMARY


def test_an_unreachable_replica_is_probed_again_only_after_a_while(alias, monkeypatch, settings):
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0
    probes = []

    def probe():
        probes.append(1)
        return Health(False, None, "unreachable (timeout)", at=replica.time.monotonic(), unreachable=True)

    monkeypatch.setattr(replica, "probe", probe)
    for _ in range(3):
        assert replica.choose() == PRIMARY
    assert len(probes) == 1  # a host that drops packets costs one connect timeout, not one per request


def test_a_view_whose_replica_fails_runs_again_on_the_primary(healthy, caplog, monkeypatch):
    monkeypatch.setattr(replica.log, "disabled", False)  # an in-process tool's dictConfig may have disabled it
    calls = []

    @replica.reads
    def listing(request):
        calls.append(replica.read_alias())
        if len(calls) == 1:
            raise OperationalError("connection refused")
        return HttpResponse("ok")

    with caplog.at_level(logging.WARNING, logger="core.replica"):
        response = listing(RequestFactory().get("/"))
    assert response.content == b"ok"
    assert calls == [REPLICA, PRIMARY]
    assert "failed during" in caplog.text and "connection refused" in caplog.text


def test_what_the_replica_has_not_got_is_looked_for_on_the_primary(healthy):
    calls = []

    @replica.reads
    def findings(request, run_id):
        calls.append(replica.read_alias())
        if replica.read_alias() == REPLICA or run_id == "unknown":
            raise Http404
        return HttpResponse("found")

    assert findings(RequestFactory().get("/"), "just-started").content == b"found"
    assert calls == [REPLICA, PRIMARY]
    with pytest.raises(Http404):  # and what the primary has not got either is not found
        findings(RequestFactory().get("/"), "unknown")


def test_a_failure_on_the_primary_is_not_hidden(healthy):
    @replica.reads
    def listing(request):
        raise OperationalError("the primary is gone")

    with pytest.raises(OperationalError):
        listing(RequestFactory().get("/"))


def test_a_browser_that_just_wrote_reads_the_primary(healthy, settings):
    seen = []

    @replica.reads
    def listing(request):
        seen.append(replica.read_alias())
        return HttpResponse()

    request = RequestFactory().get("/")
    request.COOKIES[replica.PIN_COOKIE] = "1"
    listing(request)
    listing(RequestFactory().get("/"))
    assert seen == [PRIMARY, REPLICA]


def test_a_write_with_a_session_sets_the_read_your_writes_cookie(healthy, settings):
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 5
    settings.DATABASE_REPLICA_CHECK_SECONDS = 2
    middleware = replica.PrimaryAfterWriteMiddleware(lambda request: HttpResponse())

    def through(method: str, *, session: bool):
        request = getattr(RequestFactory(), method)("/console/withdrawals/x/approve/")
        if session:
            request.COOKIES[settings.SESSION_COOKIE_NAME] = "abc"
        return middleware(request).cookies

    pinned = through("post", session=True)[replica.PIN_COOKIE]
    assert int(pinned["max-age"]) == 7 and pinned["httponly"] and pinned["samesite"] == "Lax"
    assert replica.PIN_COOKIE not in through("get", session=True)  # reading pins nothing
    assert replica.PIN_COOKIE not in through("post", session=False)  # API clients keep no cookies


def test_writes_and_migrations_go_to_the_primary_whatever_a_row_was_read_from():
    router = replica.PrimaryRouter()
    assert router.db_for_write(object, instance=None) == PRIMARY
    assert router.db_for_read(object) is None
    assert router.allow_migrate(PRIMARY, "wallet") is True
    assert router.allow_migrate(REPLICA, "wallet") is False
    assert router.allow_relation(object(), object()) is True
