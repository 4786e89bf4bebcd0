"""Where the time of one `POST /api/v1/withdrawals/` goes, stage by stage, inside the process.

The request is handed to the WSGI application directly (no socket), as a server would:
a fresh Idempotency-Key each time, the player's token, a JSON body. Wrappers around the
functions that make up each stage time it exclusively (time spent in a nested stage counts
for the nested one), and a `connection.execute_wrapper` counts each stage's SQL round trips
and their time: each statement, the BEGIN psycopg sends before a transaction's first one, and
the commit. Whatever is not in a named
stage is Django's and DRF's own work (handler, middleware, dispatch, content negotiation).

`python -m bench.profile_request` prints the table for the benchmark database's bench
players (after `make bench`, or it prepares them); `bench.run` calls `profile()` and writes
the table into docs/benchmarks.md. PROFILE_REQUESTS (default 400) after 50 warm-up requests.
"""

import cProfile
import io
import json
import os
import pstats
import sys
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager

import psycopg

REQUESTS = int(os.environ.get("PROFILE_REQUESTS", "400"))
WARMUP = 50
BODY = json.dumps({"amount": "1.00", "currency": "EUR"}).encode()

# Stages in the order a request meets them; FRAMEWORK is the remainder.
FRAMEWORK = "framework and middleware"
STAGES = [
    FRAMEWORK,
    "authentication",
    "throttle",
    "idempotency (key, claim, stored response)",
    "request parsing and validation",
    "service request_withdrawal",
    "response serialization",
    "commit",
]


class Stopwatch:
    """Exclusive time, statement count and statement time per stage, for one run of requests."""

    def __init__(self):
        self.stack = [FRAMEWORK]
        self.started = [(0, 0)]
        self.time_ns = defaultdict(int)
        self.cpu_ns = defaultdict(int)
        self.queries = defaultdict(int)
        self.db_ns = defaultdict(int)

    @staticmethod
    def _now() -> tuple[int, int]:
        return time.perf_counter_ns(), time.thread_time_ns()

    def _charge(self, stage: str, since: tuple[int, int], now: tuple[int, int]) -> None:
        self.time_ns[stage] += now[0] - since[0]
        self.cpu_ns[stage] += now[1] - since[1]

    @contextmanager
    def stage(self, name: str):
        now = self._now()
        self._charge(self.stack[-1], self.started[-1], now)
        self.stack.append(name)
        self.started.append(now)
        try:
            yield
        finally:
            now = self._now()
            self._charge(self.stack.pop(), self.started.pop(), now)
            self.started[-1] = now

    def begin(self) -> None:
        self.started[-1] = self._now()

    def end(self) -> None:
        self._charge(FRAMEWORK, self.started[-1], self._now())

    def on_query(self, execute, sql, params, many, context):
        # psycopg sends BEGIN as a round trip of its own before a transaction's first statement.
        raw = context["connection"].connection
        begins = not raw.autocommit and raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        started = time.perf_counter_ns()
        try:
            return execute(sql, params, many, context)
        finally:
            stage = self.stack[-1]
            self.queries[stage] += 1 + begins
            self.db_ns[stage] += time.perf_counter_ns() - started

    def reset(self) -> None:
        self.time_ns.clear()
        self.cpu_ns.clear()
        self.queries.clear()
        self.db_ns.clear()


class _Current:
    """The Stopwatch the wrappers time into (the wrappers are put in once per process)."""

    watch: Stopwatch | None = None
    instrumented = False

    @contextmanager
    def stage(self, name: str):
        if self.watch is None:
            yield
        else:
            with self.watch.stage(name):
                yield


def _wrap(owner, attribute: str, stage: str, watch) -> None:
    original = getattr(owner, attribute)

    def wrapped(*args, **kwargs):
        with watch.stage(stage):
            return original(*args, **kwargs)

    wrapped.__wrapped__ = original
    setattr(owner, attribute, wrapped)


_CURRENT = _Current()


def instrument() -> None:
    """Put the stage wrappers around the functions of one request's path (this process only)."""
    if _CURRENT.instrumented:
        return
    _CURRENT.instrumented = True
    watch = _CURRENT
    from django.db import connections

    from core import idempotency
    from core.api import parsers
    from core.api.throttling import PlayerRateThrottle
    from players.auth import PlayerTokenAuthentication
    from wallet import selectors, services
    from wallet.api import serializers, views

    _wrap(PlayerTokenAuthentication, "authenticate", "authentication", watch)
    _wrap(PlayerRateThrottle, "allow_request", "throttle", watch)
    idem = "idempotency (key, claim, stored response)"
    for name in ("request_key", "_claim", "_earlier_answer", "_complete", "_replay"):
        _wrap(idempotency, name, idem, watch)
    _wrap(idempotency, "fingerprint", "request parsing and validation", watch)  # reads request.data first
    _wrap(parsers.StrictJSONParser, "parse", "request parsing and validation", watch)
    _wrap(serializers.MoneyRequestSerializer, "is_valid", "request parsing and validation", watch)
    _wrap(services, "request_withdrawal", "service request_withdrawal", watch)
    _wrap(selectors, "cancel_allowed", "response serialization", watch)
    _wrap_property(serializers.WithdrawalSerializer, "data", "response serialization", watch)
    _wrap(idempotency, "_rendered", "response serialization", watch)
    _wrap(type(connections["default"]), "commit", "commit", watch)
    # views.services is the same module object as wallet.services: the wrapper above is seen there.
    assert views.services is services


def _wrap_property(owner, attribute: str, stage: str, watch) -> None:
    prop = getattr(owner, attribute)

    def getter(self):
        with watch.stage(stage):
            return prop.fget(self)

    setattr(owner, attribute, property(getter))


def _environ(token: str) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/withdrawals/",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(BODY)),
        "HTTP_AUTHORIZATION": f"Token {token}",
        "HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex,
        "wsgi.input": io.BytesIO(BODY),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _call(application, environ: dict) -> int:
    statuses = []
    body = application(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    return int(statuses[0][:3])


def profile(token: str, requests: int = REQUESTS, replay: bool = False) -> dict:
    """Send `requests` withdrawals through the WSGI application; per-stage figures per request.

    replay=True sends one key over and over (after its first request): the stored answer.
    """
    from django.core.wsgi import get_wsgi_application
    from django.test.utils import override_settings

    with override_settings(**AS_SERVED):
        return _profile(get_wsgi_application(), token, requests, replay)


# As the benchmark's server runs: no rate limit in the way, plain HTTP as behind a TLS proxy.
AS_SERVED = {"API_PLAYER_RATE": "100000000/min", "SECURE_SSL_REDIRECT": False}


def _profile(application, token: str, requests: int, replay: bool) -> dict:
    from django.db import connection

    watch = Stopwatch()
    instrument()
    _CURRENT.watch = watch
    key = uuid.uuid4().hex

    def send() -> None:
        environ = _environ(token)
        if replay:
            environ["HTTP_IDEMPOTENCY_KEY"] = key
        watch.begin()
        status = _call(application, environ)
        watch.end()
        if status not in (200, 201):
            raise RuntimeError(f"POST withdrawals/ answered {status}")

    for _ in range(WARMUP):
        send()
    watch.reset()
    backend = _backend_cpu_ns()
    with connection.execute_wrapper(watch.on_query):
        started, cpu = time.perf_counter_ns(), time.thread_time_ns()
        for _ in range(requests):
            send()
        elapsed, cpu = time.perf_counter_ns() - started, time.thread_time_ns() - cpu
    backend = _backend_cpu_ns() - backend
    _CURRENT.watch = None
    rows = []
    for stage in STAGES:
        # A commit is one round trip: counted as a statement, its time as database time.
        queries = watch.queries[stage] + (watch.time_ns[stage] > 0 if stage == "commit" else 0) * requests
        db_ns = watch.time_ns[stage] if stage == "commit" else watch.db_ns[stage]
        rows.append(
            {
                "stage": stage,
                "ms": watch.time_ns[stage] / requests / 1e6,
                "cpu_ms": watch.cpu_ns[stage] / requests / 1e6,
                "db_ms": db_ns / requests / 1e6,
                "queries": queries / requests,
            }
        )
    return {
        "rows": rows,
        "total_ms": elapsed / requests / 1e6,
        "cpu_ms": cpu / requests / 1e6,
        "db_cpu_ms": backend / requests / 1e6,
        "requests": requests,
    }


def _backend_cpu_ns() -> int:
    """CPU time of this connection's PostgreSQL backend (same machine), from /proc."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def cprofile_top(token: str, requests: int = 200, limit: int = 25) -> str:
    """cProfile of `requests` withdrawals, the functions with most cumulative time."""
    from django.core.wsgi import get_wsgi_application
    from django.test.utils import override_settings

    with override_settings(**AS_SERVED):
        application = get_wsgi_application()
        for _ in range(WARMUP):
            _call(application, _environ(token))
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            _call(application, _environ(token))
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


def markdown(result: dict, label: str = "") -> list[str]:
    """Per stage: wall time, the process's CPU time, SQL round trips and their wall time."""
    lines = [
        f"| stage{label} | ms | Python CPU ms | SQL round trips | SQL ms |",
        "|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['stage']} | {row['ms']:.3f} | {row['cpu_ms']:.3f} | {row['queries']:g} | {row['db_ms']:.3f} |"
        )
    total_queries = sum(row["queries"] for row in result["rows"])
    total_db = sum(row["db_ms"] for row in result["rows"])
    lines.append(
        f"| **the request in the process** | **{result['total_ms']:.3f}** | **{result['cpu_ms']:.3f}** "
        f"| **{total_queries:g}** | **{total_db:.3f}** |"
    )
    lines.append(f"| PostgreSQL backend CPU | | {result['db_cpu_ms']:.3f} | | |")
    return lines


def _bench_token() -> str:
    from bench import http_api, service_level

    return http_api.tokens_for(service_level.prepare(1))[0]


def main() -> int:
    from bench.common import use_bench_database

    use_bench_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    token = _bench_token()
    fresh = profile(token)
    print("\n".join(markdown(fresh, " (fresh key)")))
    print()
    replay = profile(token, replay=True)
    print("\n".join(markdown(replay, " (replay)")))
    if "--cprofile" in sys.argv:
        print(cprofile_top(token))
    return 0


if __name__ == "__main__":
    sys.exit(main())
