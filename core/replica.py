"""Reads that may come from a streaming replica, and the rules that keep everything else off it.

With DATABASE_REPLICA_URL set, the settings add the `replica` database alias: a hot standby
streaming from the primary. Nothing goes there by itself. A view that only reads (a console
list, an operator API list, a report) opts in with `@reads`, and the selectors it calls put
`.using(read_alias())` on the querysets meant for the replica. Everything else stays on the
primary: authentication, sessions, the operator gate, idempotency records, every service,
every read under `select_for_update`, and every read inside a transaction (`read_alias()`
answers the primary there, so a read that a write or a lock follows sees that transaction).
A row read from the replica and then saved is written to the primary (PrimaryRouter).

The replica serves reads only while it is healthy, probed at most every
DATABASE_REPLICA_CHECK_SECONDS per process (every UNREACHABLE_PROBE_SECONDS while it does
not answer):
- it answers (connect_timeout DATABASE_REPLICA_CONNECT_TIMEOUT) and is in recovery: a server
  that was promoted no longer follows the primary, whatever it holds;
- it is at most DATABASE_REPLICA_MAX_LAG_SECONDS behind: not at all when it has replayed the
  primary's WAL up to where the primary was when asked (pg_current_wal_lsn() there, then
  pg_last_wal_replay_lsn() here, so an idle primary does not look like lag), otherwise by
  now() - pg_last_xact_replay_timestamp(). (Comparing the replica's received and replayed
  positions alone would call a replica whose WAL receiver lost the primary "caught up".)
A replica that fails during a view (refused connection, timeout, a query cancelled by
recovery) is probed again next time and the view runs again on the primary; a warning is
logged and nobody sees a 500.

Read your writes: after a browser's POST its reads come from the primary for as long as a
replica read could still miss that write (PrimaryAfterWriteMiddleware).

Reconciliation reads one snapshot on one server: `snapshot_server()` gives the replica only
once it holds every commit the primary had made when asked (it waits up to the lag limit for
that), so a run there sees what a run on the primary would have seen; `reading_connection()`
is the connection its checks read through, and `fall_back()` reruns the run's reads on the
primary if the replica fails meanwhile. docs/scaling.md has the whole picture.
"""

import logging
import math
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.http import Http404

log = logging.getLogger(__name__)

PRIMARY = DEFAULT_DB_ALIAS
REPLICA = "replica"
PIN_COOKIE = "primary_reads"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# What a replica going away looks like to Django: refused or broken connections, timeouts,
# queries cancelled by a conflict with recovery.
FAILURES = (OperationalError, InterfaceError)
UNREACHABLE_PROBE_SECONDS = 30.0

T = TypeVar("T")

_reading: ContextVar[str] = ContextVar("replica_reading", default=PRIMARY)


def configured() -> bool:
    return REPLICA in connections.settings


def max_lag() -> float:
    return float(getattr(settings, "DATABASE_REPLICA_MAX_LAG_SECONDS", 5))


def check_seconds() -> float:
    return float(getattr(settings, "DATABASE_REPLICA_CHECK_SECONDS", 2))


# --- health ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    usable: bool  # it answered, and it is a standby of the primary
    lag: float | None  # seconds behind the primary (0: has everything); None: unknown
    reason: str = ""  # why not usable
    at: float = 0.0  # time.monotonic() of the probe
    unreachable: bool = False

    def within(self, limit: float) -> bool:
        return self.usable and self.lag is not None and self.lag <= limit

    def describe(self, limit: float) -> str:
        if not self.usable:
            return self.reason
        if self.lag is None:
            return "replay lag unknown"
        return f"replay lag {self.lag:.1f} s" + (f" > {limit:g} s" if self.lag > limit else "")


_health: Health | None = None
_probing = threading.Lock()


def health() -> Health:
    """The replica's last probe, probed again when older than DATABASE_REPLICA_CHECK_SECONDS.

    One thread of the process probes; the others meanwhile go by the last answer (or, before
    the first, by the primary).
    """
    global _health
    current = _health
    if current is not None and time.monotonic() - current.at < _probe_interval(current):
        return current
    if not _probing.acquire(blocking=False):
        return current or Health(False, None, "first probe under way")
    try:
        fresh = probe()
        _report(current, fresh)
        _health = fresh
        return fresh
    finally:
        _probing.release()


def _probe_interval(last: Health) -> float:
    """An unreachable replica is probed at most every UNREACHABLE_PROBE_SECONDS: a host that
    drops packets costs the probing request the whole connect timeout."""
    if last.unreachable:
        return max(check_seconds(), UNREACHABLE_PROBE_SECONDS)
    return check_seconds()


def forget() -> None:
    """Probe again before the next read (after a failure, or in tests)."""
    global _health
    _health = None


def probe() -> Health:
    now = time.monotonic()
    try:
        written = _primary_position()
    except DatabaseError as error:
        return Health(False, None, f"the primary's WAL position is unknown ({_first_line(error)})", now)
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn,"
                " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())",
                [written],
            )
            standby, caught_up, behind = cursor.fetchone()
    except DatabaseError as error:
        discard()
        return Health(False, None, f"unreachable ({_first_line(error)})", now, unreachable=True)
    if not standby:
        return Health(False, None, "not a standby: it was promoted or is another primary, and no longer follows", now)
    if caught_up:
        return Health(True, 0.0, "", now)
    return Health(True, None if behind is None else max(0.0, float(behind)), "", now)


def _primary_position() -> str:
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        return cursor.fetchone()[0]


_warned_at = 0.0


def _report(before: Health | None, after: Health) -> None:
    """A warning when the replica stops serving reads (again each minute while it does not), a note when it resumes."""
    global _warned_at
    limit = max_lag()
    if after.within(limit):
        if before is not None and not before.within(limit):
            log.info("The database replica serves reads again (%s).", after.describe(limit))
        return
    if before is None or before.within(limit) or time.monotonic() - _warned_at >= 60:
        _warned_at = time.monotonic()
        log.warning("Reads go to the primary: the database replica is not used (%s).", after.describe(limit))


def discard(alias: str = REPLICA) -> None:
    """Drop this thread's connection to `alias`; the next use opens a new one."""
    with suppress(DatabaseError):
        connections[alias].close()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# --- where reads go ----------------------------------------------------------------------------


def choose(limit: float | None = None) -> str:
    """The replica if it is configured, healthy and at most `limit` seconds behind
    (DATABASE_REPLICA_MAX_LAG_SECONDS by default); otherwise the primary. Inside a
    transaction on the primary, always the primary."""
    if not configured() or connections[PRIMARY].in_atomic_block:
        return PRIMARY
    return REPLICA if health().within(max_lag() if limit is None else limit) else PRIMARY


def read_alias() -> str:
    """Where a read that may be a few seconds stale goes: the server `reading()` chose for
    this view or run, and the primary everywhere else.

    Inside a transaction on the primary the answer is the primary whatever was chosen: a
    read there may be followed by a write or taken under a lock, and must see that
    transaction's own rows.
    """
    alias = _reading.get()
    if alias != PRIMARY and connections[PRIMARY].in_atomic_block:
        return PRIMARY
    return alias


def reading_connection():
    """The connection read_alias() names (reconciliation's checks read through it)."""
    return connections[read_alias()]


@contextmanager
def reading(alias: str | None = None):
    """Within the block, read_alias() answers `alias` (by default: choose()). Yields it."""
    token = _reading.set(choose() if alias is None else alias)
    try:
        yield _reading.get()
    finally:
        _reading.reset(token)


def fall_back(work: Callable[[str], T], alias: str, what: str) -> tuple[T, str]:
    """work(alias); if the replica fails during it, work(PRIMARY) once more.

    Returns the result and the server it came from. `work` must only read: it may run twice.
    A failure on the primary itself fails the second run too, and is raised from there.
    """
    if alias == PRIMARY:
        return work(PRIMARY), PRIMARY
    try:
        return work(alias), alias
    except FAILURES as error:
        log.warning("The database replica failed during %s (%s); reading from the primary.", what, _first_line(error))
        forget()
        discard(alias)
    return work(PRIMARY), PRIMARY


def reads(view):
    """For a view that only reads (a list, a report, an export): its reads through read_alias()
    come from the replica when it is healthy and the browser has not just written (PIN_COOKIE).

    The view runs again on the primary if the replica fails during it, and if it answers 404
    there: what the replica has not got may only not have arrived yet (a run an API client
    started a moment ago), and the primary has the last word.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        request = next((arg for arg in args if hasattr(arg, "COOKIES")), None)
        chosen = PRIMARY if request is not None and PIN_COOKIE in request.COOKIES else choose()

        def run(alias):
            with reading(alias):
                return view(*args, **kwargs)

        try:
            return fall_back(run, chosen, view.__qualname__)[0]
        except Http404:
            if chosen == PRIMARY:
                raise
        return run(PRIMARY)

    return wrapped


def snapshot_server(wait: float | None = None) -> str:
    """The server for one consistent read of everything committed so far (a reconciliation run).

    The replica only if it is healthy and, within `wait` seconds (the lag limit by default),
    has replayed the primary's WAL up to where it was when asked: a snapshot taken there
    afterwards holds every transaction committed before this call, as a snapshot taken on
    the primary now would. Otherwise the primary.
    """
    if choose() == PRIMARY:
        return PRIMARY
    deadline = time.monotonic() + (max_lag() if wait is None else wait)
    try:
        written = _primary_position()
        with connections[REPLICA].cursor() as cursor:
            while True:
                cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [written])
                if cursor.fetchone()[0]:
                    return REPLICA
                if time.monotonic() >= deadline:
                    log.info("The database replica did not reach %s in time; reading from the primary.", written)
                    return PRIMARY
                time.sleep(0.02)
    except DatabaseError as error:
        log.warning("Reading from the primary: the database replica failed (%s).", _first_line(error))
        forget()
        discard()
        return PRIMARY


# --- writes and read-your-writes ---------------------------------------------------------------


class PrimaryRouter:
    """Every write goes to the primary, whichever server its row was read from; only the primary is migrated."""

    def db_for_read(self, model, **hints):
        return None  # the server the caller named with .using(), or the one the row came from

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the primary's rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


def pin_seconds() -> int:
    """How long a replica read may still miss a write: the lag limit, plus the probe's age."""
    return math.ceil(max_lag() + check_seconds())


class PrimaryAfterWriteMiddleware:
    """A browser that just wrote (a POST with a session cookie) reads from the primary for pin_seconds().

    The console redirects after every act; the page it lands on must show the act. API
    clients keep no cookies: their lists may be up to the lag limit behind, and every
    write answers with what it wrote, read from the primary.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in SAFE_METHODS and settings.SESSION_COOKIE_NAME in request.COOKIES and configured():
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=pin_seconds(),
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
