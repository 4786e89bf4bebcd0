"""`make bench-reconciliation`: a full reconciliation of a million transactions beside a plain scan.

Creates its own database (RECON_BENCH_DATABASE, default casino_payments_recon_bench),
loads RECON_BENCH_TRANSACTIONS (default 1,000,000) deposits and withdrawals with their
journal entries, postings, payout attempts and wallets by COPY
(bench.bulk_load), then times, in the same run and on the same warm cache:

- the baseline: `SELECT sum(amount) FROM wallet_posting`, a plain sequential pass over
  the ledger table;
- `run_reconciliation()` over all tenants: lock, run record, every check in one
  snapshot (spread over RECONCILIATION_SESSIONS sessions sharing it, and again in one
  session), findings stored by COPY, audit events;
- for scale, the same scan without parallel workers, and a count(*) of every table the
  checks read (no reconciliation can take less than reading its rows).

Each is timed RECON_BENCH_REPEAT times (default 3), interleaved, and the median is
reported, with the ratio (goal: at most 3) and the number of SQL statements of a
one-session run at a small size and at full size (goal: the same). The database is
dropped at the end unless RECON_BENCH_KEEP=1.
"""

import logging
import os
import statistics
import sys
import time

from bench.common import PG, psql, recreate_database

DATABASE = os.environ.get("RECON_BENCH_DATABASE", "casino_payments_recon_bench")
TRANSACTIONS = int(os.environ.get("RECON_BENCH_TRANSACTIONS", "1000000"))
SMALL = int(os.environ.get("RECON_BENCH_SMALL", "10000"))
REPEAT = int(os.environ.get("RECON_BENCH_REPEAT", "3"))
STALE_EVERY = 100  # every 100th wallet has a stuck deposit and payout: findings to store
GOAL_RATIO = 3.0


def use_database() -> None:
    os.environ["DATABASE_URL"] = f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def load(transactions: int):
    """COPY the books in one transaction, triggers off (a bulk load, like pg_restore does)."""
    from django.db import connection, transaction

    from bench.bulk_load import load_books, triggers_off

    with transaction.atomic(), triggers_off():
        loaded = load_books(transactions, stale_every=STALE_EVERY)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (FREEZE, ANALYZE)")
    return loaded, time.perf_counter() - started


# Every table the checks read, read once with no computation: a floor no reconciliation can beat.
READ_FLOOR = " UNION ALL ".join(
    f"SELECT count(*) FROM {table}"
    for table in (
        "wallet_posting",
        "wallet_journalentry",
        "wallet_withdrawal",
        "wallet_deposit",
        "payouts_payoutattempt",
        "wallet_wallet",
    )
)


def timed_sql(sql: str, *, parallel: bool = True) -> float:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if not parallel:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        started = time.perf_counter()
        cursor.execute(sql)
        cursor.fetchall()
        return time.perf_counter() - started


def scan(*, parallel: bool = True) -> float:
    """The baseline: a plain sequential sum over the ledger's postings (PostgreSQL's default plan).

    The one-process variant is a different statement text: psycopg prepares statements
    it has run five times, and a prepared plan keeps the parallel workers it was made with.
    """
    sql = "SELECT sum(amount) FROM wallet_posting" + ("" if parallel else " /* one process */")
    return timed_sql(sql, parallel=parallel)


def backend_cpu_seconds() -> float | None:
    """CPU time of this connection's PostgreSQL backend so far, when the server runs on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_ratio() -> tuple[float, float] | None:
    """(scan, reconciliation) backend CPU seconds, one session and no parallel workers on either side.

    Wall-clock figures move with whatever else the machine runs; CPU time spent by the
    backend does not, so this ratio stays put on a busy machine.
    """
    from django.db import connection

    connection.close()  # a new backend: no statement prepared earlier with parallel workers
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    try:
        start = backend_cpu_seconds()
        if start is None:
            return None
        scan()
        middle = backend_cpu_seconds()
        reconcile(sessions=1)
        end = backend_cpu_seconds()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET max_parallel_workers_per_gather")
    return middle - start, end - middle


def reconcile(sessions: int | None = None):
    """One full run; returns (seconds, statements of the run's own session, run)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.actors import Actor
    from reconciliation.services import run_reconciliation

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        run = run_reconciliation(actor=Actor.system("bench"), sessions=sessions)
        seconds = time.perf_counter() - started
    return seconds, len(queries), run


def main() -> int:
    use_database()
    recreate_database(DATABASE)
    try:
        return _bench()
    finally:
        from django.db import connections

        connections.close_all()
        if os.environ.get("RECON_BENCH_KEEP") != "1":
            psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def _bench() -> int:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(
        f"Reconciliation benchmark: {TRANSACTIONS:,} transactions, median of {REPEAT}, {os.cpu_count()} cores; "
        f"PostgreSQL shared_buffers={psql('show shared_buffers')}, "
        f"max_parallel_workers_per_gather={psql('show max_parallel_workers_per_gather')}"
    )

    small, _ = load(min(SMALL, TRANSACTIONS))
    _, small_queries, small_run = reconcile(sessions=1)  # one session: every statement is counted
    logging.getLogger("reconciliation.alerts").setLevel(logging.CRITICAL)  # one alert line is enough

    rest, vacuum = (None, 0.0)
    if small.transactions < TRANSACTIONS:
        rest, vacuum = load(TRANSACTIONS - small.transactions)
    loaded = [small] + ([rest] if rest else [])
    rows = {
        name: sum(getattr(part, name) for part in loaded)
        for name in ("transactions", "wallets", "journal_entries", "postings", "payout_attempts")
    }
    load_seconds = sum(part.seconds for part in loaded)
    print(
        f"loaded {rows['transactions']:,} transactions ({rows['wallets']:,} wallets, {rows['journal_entries']:,}"
        f" journal entries, {rows['postings']:,} postings, {rows['payout_attempts']:,} payout attempts)"
        f" by COPY in {load_seconds:.1f} s (+ VACUUM ANALYZE {vacuum:.1f} s)"
    )

    scan()  # warm the cache for both
    scans, serial_scans, floors, runs, one_session_runs = [], [], [], [], []
    for _ in range(REPEAT):  # interleaved, so a busy machine slows all alike
        scans.append(scan())
        serial_scans.append(scan(parallel=False))
        floors.append(timed_sql(READ_FLOOR))
        runs.append(reconcile())
        one_session_runs.append(reconcile(sessions=1))
    scan_seconds, serial_seconds, floor_seconds = (statistics.median(t) for t in (scans, serial_scans, floors))
    run_seconds = statistics.median(seconds for seconds, _, _ in runs)
    one_session_seconds = statistics.median(seconds for seconds, _, _ in one_session_runs)
    big_run = runs[-1][2]
    _, big_queries, _ = one_session_runs[-1]
    ratio = run_seconds / scan_seconds

    print(f"sequential scan  SELECT sum(amount) FROM wallet_posting:  {scan_seconds * 1000:8.0f} ms")
    print(f"  the same without parallel workers:                      {serial_seconds * 1000:8.0f} ms")
    print(f"  count(*) of every table the checks read (a floor):      {floor_seconds * 1000:8.0f} ms")
    print(
        f"full reconciliation (all checks, findings stored), {big_run.stats['sessions']} sessions:"
        f" {run_seconds * 1000:8.0f} ms"
    )
    print(f"  the same in one session:                                 {one_session_seconds * 1000:8.0f} ms")
    print(
        f"ratio reconciliation / scan: {ratio:.2f} "
        f"(goal <= {GOAL_RATIO:.0f}: {'met' if ratio <= GOAL_RATIO else 'NOT met'}); "
        f"/ scan without parallel workers: {run_seconds / serial_seconds:.2f}; "
        f"read floor / scan: {floor_seconds / scan_seconds:.2f}"
    )
    cpu = [figures for figures in (cpu_ratio() for _ in range(REPEAT)) if figures]
    if cpu:
        scan_cpu, run_cpu = (statistics.median(values) for values in zip(*cpu, strict=True))
        print(
            f"backend CPU time, one session, no parallel workers: scan {scan_cpu * 1000:.0f} ms, "
            f"reconciliation {run_cpu * 1000:.0f} ms, ratio {run_cpu / scan_cpu:.2f}"
        )
    print("per check (last run in one session):")
    for name, figures in one_session_runs[-1][2].stats["checks"].items():
        print(
            f"  {name:<28} {figures['seconds'] * 1000:8.0f} ms  {figures['statements']} statement(s)"
            f"  {figures['findings']:>7,} findings"
        )
    print(
        f"SQL statements per run (one session): {small_queries} at {small.transactions:,} transactions "
        f"({small_run.findings_count:,} findings), {big_queries} at {rows['transactions']:,} "
        f"({big_run.findings_count:,} findings); findings are written by one COPY besides"
        f" ({'same' if small_queries == big_queries else 'DIFFERENT'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
