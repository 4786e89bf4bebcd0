"""`make bench-reconciliation`: incremental and full reconciliation over histories of growing size.

For each history size in RECON_BENCH_SIZES (default 1,000,000; `make bench-reconciliation
SIZE=10000000` runs 1,000,000 and 10,000,000 in one go), in a database of its own
(RECON_BENCH_DATABASE, default casino_payments_recon_bench, dropped after each size
unless RECON_BENCH_KEEP=1):

1. load the history by COPY (bench.bulk_load): N deposits and withdrawals with their
   journal entries, postings, payout attempts and wallets, dated three days back and
   settled as old payments are (no deposit still at the PSP, no payout in flight),
   but for about 100 wallets whose pending deposit and payout are stuck: findings
   that every run reports again, as operators leave some open;
2. a full run over all tenants: the checkpoint the nightly run starts from;
3. load RECON_BENCH_NEW (default 100,000) new transactions, dated now: the day's
   payments;
4. time, interleaved RECON_BENCH_REPEAT times (default 3, the median is reported):
   `SELECT sum(amount) FROM wallet_posting` (a plain sequential scan of the ledger),
   the incremental run over the new transactions, and a full run; the checkpoint and
   wallet totals are put back after each run, so each starts from the same place.
   Then the PostgreSQL backend's CPU time of each, in one session without parallel
   workers: wall-clock figures move with whatever else the machine runs, CPU time
   does not.

The figures to reach, all from one run: the incremental run at the largest size takes
at most 1.5 x as long as at the smallest (it reads the day's payments, not the
history), and the full run at most 12 x per 10 x more history (it grows linearly).
Writes docs/benchmarks-reconciliation.md (RECON_BENCH_REPORT; "-" to skip writing).
"""

import logging
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import PG, psql, recreate_database

DATABASE = os.environ.get("RECON_BENCH_DATABASE", "casino_payments_recon_bench")
SIZES = [int(size) for size in os.environ.get("RECON_BENCH_SIZES", "1000000").split(",") if size.strip()]
NEW = int(os.environ.get("RECON_BENCH_NEW", "100000"))
REPEAT = int(os.environ.get("RECON_BENCH_REPEAT", "3"))
WORKERS = int(os.environ.get("RECON_BENCH_LOAD_WORKERS", str(os.cpu_count() or 2)))  # processes loading the history
STALE_WALLETS = 100  # wallets of the history with a stuck deposit and payout: findings every run reports
REPORT = os.environ.get(
    "RECON_BENCH_REPORT", str(Path(__file__).resolve().parent.parent / "docs" / "benchmarks-reconciliation.md")
)
GOAL_INCREMENTAL = 1.5  # incremental at the largest size / at the smallest
GOAL_FULL_PER_10X = 12.0  # full run per 10 x more history


@dataclass
class Size:
    """What one history size measured."""

    history: int
    new: int = 0
    rows: dict = field(default_factory=dict)
    load_seconds: float = 0.0
    vacuum_seconds: float = 0.0
    checkpoint_seconds: float = 0.0
    scan: float = 0.0
    incremental: float = 0.0
    full: float = 0.0
    cpu: dict = field(default_factory=dict)
    incremental_run: dict = field(default_factory=dict)
    full_run: dict = field(default_factory=dict)
    load_average: tuple = ()  # the machine's 1, 5 and 15 minute load while this size was timed


def use_database() -> None:
    os.environ["DATABASE_URL"] = f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def load(transactions: int, **options):
    """COPY the books (bench.bulk_load) in one transaction, triggers off as pg_restore does: the day's payments."""
    from django.db import transaction

    from bench.bulk_load import load_books, triggers_off

    with transaction.atomic(), triggers_off():
        return load_books(transactions, **options)


def load_history(transactions: int, **options):
    """The history, into empty tables: in parallel, indexes built at the end (bench.bulk_load.load_books_fast)."""
    from bench.bulk_load import load_books_fast

    return load_books_fast(transactions, workers=WORKERS, **options)


def vacuum(*, freeze: bool) -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (FREEZE, ANALYZE)" if freeze else "VACUUM (ANALYZE)")
    return time.perf_counter() - started


def timed_sql(sql: str) -> float:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(sql)
        cursor.fetchall()
        return time.perf_counter() - started


def scan() -> float:
    """The baseline: a plain sequential sum over the ledger's postings."""
    return timed_sql("SELECT sum(amount) FROM wallet_posting")


def reconcile(mode: str, sessions: int | None = None):
    """One run over all tenants; returns (seconds, run)."""
    from core.actors import Actor
    from reconciliation.services import run_reconciliation

    started = time.perf_counter()
    run = run_reconciliation(actor=Actor.system("bench"), mode=mode, sessions=sessions)
    return time.perf_counter() - started, run


class Checkpoint:
    """Keeps the checkpoint the new transactions are counted from, and puts it back after each timed run."""

    def __init__(self):
        from django.db import connection

        from reconciliation.models import Checkpoint as Model

        self.id = Model.objects.order_by("-id").values_list("id", flat=True).first()
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_wallettotal")
            cursor.execute("CREATE TABLE bench_wallettotal AS SELECT * FROM reconciliation_wallettotal")

    def restore(self) -> None:
        from django.db import connection, transaction

        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM reconciliation_checkpoint WHERE id > %s", [self.id])
            cursor.execute("TRUNCATE reconciliation_wallettotal")
            cursor.execute("INSERT INTO reconciliation_wallettotal SELECT * FROM bench_wallettotal")


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


def cpu_of(work) -> float | None:
    """Backend CPU seconds of `work()` in a new session without parallel workers (one process does it all)."""
    from django.db import connection

    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    try:
        before = backend_cpu_seconds()
        work()
        after = backend_cpu_seconds()
    finally:
        connection.close()
    return None if before is None else after - before


def main() -> int:
    use_database()
    import django

    django.setup()
    logging.getLogger("reconciliation.alerts").setLevel(logging.CRITICAL)  # findings are expected here
    print(
        f"Reconciliation benchmark: histories of {', '.join(f'{n:,}' for n in SIZES)} transactions, then {NEW:,} new;"
        f" median of {REPEAT}; {os.cpu_count()} cores; PostgreSQL shared_buffers={psql('show shared_buffers')},"
        f" max_parallel_workers_per_gather={psql('show max_parallel_workers_per_gather')}"
    )
    measured = []
    for history in SIZES:
        measured.append(_measure(history))
        _print(measured[-1])
    goals = _goals(measured)
    print()
    for line in _comparisons(measured):
        print(line)
    for name, met in goals:
        print(f"goal: {name}: {'met' if met else 'NOT met'}")
    if REPORT != "-":
        _write_report(measured, goals)
        print(f"\nwritten to {REPORT}")
    return 0


def _measure(history: int) -> Size:
    from django.core.management import call_command
    from django.db import connections

    recreate_database(DATABASE)
    try:
        call_command("migrate", verbosity=0)
        size = Size(history)
        when = datetime.now(tz=UTC) - timedelta(days=3)
        wallets = history // 10
        old = load_history(history, when=when, settled=True, stale_every=max(1, wallets // STALE_WALLETS))
        size.vacuum_seconds = vacuum(freeze=True)
        size.checkpoint_seconds, first = reconcile("full")
        assert first.checkpoint.pk, first.stats["checkpoint"]
        new = load(NEW)
        size.vacuum_seconds += vacuum(freeze=False)
        size.new = new.transactions
        size.load_seconds = old.seconds + new.seconds
        size.rows = {
            name: getattr(old, name) + getattr(new, name)
            for name in ("transactions", "wallets", "journal_entries", "postings", "payout_attempts")
        }
        print(
            f"\n{history:,}-transaction history + {size.new:,} new: loaded {size.rows['transactions']:,} transactions"
            f" ({size.rows['wallets']:,} wallets, {size.rows['journal_entries']:,} journal entries,"
            f" {size.rows['postings']:,} postings, {size.rows['payout_attempts']:,} payout attempts) by COPY in"
            f" {size.load_seconds:.1f} s (+ VACUUM {size.vacuum_seconds:.1f} s); the checkpoint's full run"
            f" {size.checkpoint_seconds:.1f} s"
        )
        _time(size, Checkpoint())
        return size
    finally:
        connections.close_all()
        if os.environ.get("RECON_BENCH_KEEP") != "1":
            psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def _time(size: Size, start: Checkpoint) -> None:
    scan()  # a warm cache for all
    scans, incremental, full = [], [], []
    for _ in range(REPEAT):  # interleaved, so a busy machine slows all alike
        scans.append(scan())
        seconds, run = reconcile("incremental")
        start.restore()
        assert run.mode == "incremental", run.stats
        incremental.append((seconds, run))
        seconds, run = reconcile("full")
        start.restore()
        full.append((seconds, run))
    size.scan = statistics.median(scans)
    size.incremental = statistics.median(s for s, _ in incremental)
    size.full = statistics.median(s for s, _ in full)
    size.incremental_run, size.full_run = _summary(incremental[-1][1]), _summary(full[-1][1])
    size.load_average = os.getloadavg()
    for mode in ("incremental", "full"):
        figures = []
        for _ in range(REPEAT):
            figures.append(cpu_of(lambda mode=mode: reconcile(mode, sessions=1)))
            start.restore()
        figures.append(cpu_of(scan))
        size.cpu[mode] = None if None in figures else statistics.median(figures[:-1])
        size.cpu["scan"] = figures[-1]


def _summary(run) -> dict:
    return {
        "findings": run.findings_count,
        "sessions": run.stats["sessions"],
        "checks": {name: figures["seconds"] for name, figures in run.stats["checks"].items()},
        "checkpoint": run.stats["checkpoint"],
    }


def _print(size: Size) -> None:
    print("  sequential scan  SELECT sum(amount) FROM wallet_posting:".ljust(58) + f"{size.scan * 1000:9.0f} ms")
    print(
        f"  incremental run over the {size.new:,} new transactions:".ljust(58)
        + f"{size.incremental * 1000:9.0f} ms  ({size.incremental_run['findings']} findings)"
    )
    print(
        f"  full run over all {size.rows['transactions']:,} transactions:".ljust(58)
        + f"{size.full * 1000:9.0f} ms  ({size.full_run['findings']} findings), {size.full / size.scan:.1f} x the scan"
    )
    if size.cpu.get("full") is not None:
        print(
            f"  backend CPU, one session: scan {size.cpu['scan'] * 1000:.0f} ms, incremental"
            f" {size.cpu['incremental'] * 1000:.0f} ms, full {size.cpu['full'] * 1000:.0f} ms"
            + (f" ({size.cpu['full'] / size.cpu['scan']:.1f} x the scan)" if size.cpu["scan"] else "")
        )
    print(f"  load average while timed: {', '.join(f'{n:.1f}' for n in size.load_average)} ({os.cpu_count()} cores)")
    for mode, run in (("incremental", size.incremental_run), ("full", size.full_run)):
        checks = ", ".join(f"{name} {seconds * 1000:.0f}" for name, seconds in run["checks"].items())
        written = run["checkpoint"].get("seconds", {})
        print(
            f"  {mode} per check, ms ({run['sessions']} sessions): {checks}; checkpoint: read"
            f" {written.get('read', 0) * 1000:.0f}, written {written.get('write', 0) * 1000:.0f}"
            f" ({run['checkpoint'].get('wallets', 0):,} wallets)"
        )


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _comparisons(measured: list[Size]) -> list[str]:
    if len(measured) < 2:
        return []
    small, large = measured[0], measured[-1]
    growth = large.history / small.history
    lines = [
        f"{large.history:,} against {small.history:,} history ({growth:g} x):"
        f" incremental {large.incremental / small.incremental:.2f} x,"
        f" full {large.full / small.full:.2f} x, scan {large.scan / small.scan:.2f} x (wall clock)"
    ]
    cpu_incremental = _ratio(large.cpu.get("incremental"), small.cpu.get("incremental"))
    cpu_full = _ratio(large.cpu.get("full"), small.cpu.get("full"))
    cpu_scan = _ratio(large.cpu.get("scan"), small.cpu.get("scan"))
    if cpu_incremental and cpu_full:
        lines.append(
            f"  backend CPU: incremental {cpu_incremental:.2f} x, full {cpu_full:.2f} x"
            + (f", scan {cpu_scan:.2f} x" if cpu_scan else "")
        )
    return lines


def _goals(measured: list[Size]) -> list[tuple[str, bool]]:
    if len(measured) < 2:
        return []
    small, large = measured[0], measured[-1]
    growth = large.history / small.history
    full_goal = GOAL_FULL_PER_10X ** math.log10(growth) if growth > 1 else 1.0
    goals = []
    for measure, incremental, full in (
        ("wall clock", large.incremental / small.incremental, large.full / small.full),
        (
            "backend CPU, one session",
            _ratio(large.cpu.get("incremental"), small.cpu.get("incremental")),
            _ratio(large.cpu.get("full"), small.cpu.get("full")),
        ),
    ):
        if incremental is None or full is None:
            continue
        goals += [
            (
                f"incremental over the same {NEW:,} new transactions on a {large.history:,} history <= "
                f"{GOAL_INCREMENTAL} x on a {small.history:,} one ({measure}: {incremental:.2f} x)",
                incremental <= GOAL_INCREMENTAL,
            ),
            (
                f"full run at {large.history:,} <= {full_goal:.1f} x the full run at {small.history:,}"
                f" ({measure}: {full:.2f} x)",
                full <= full_goal,
            ),
        ]
    return goals


def _write_report(measured: list[Size], goals: list[tuple[str, bool]]) -> None:
    now = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    out = [
        "# Benchmarks: reconciliation",
        "",
        f"Measured by `make bench-reconciliation` on {now}: {os.cpu_count()} cores, {memory:.0f} GiB memory,"
        f" PostgreSQL shared_buffers {psql('show shared_buffers')}; median of {REPEAT}."
        " This file is its output (the method is in `bench/reconciliation.py` and below).",
        "",
        "| history | new | scan ms | incremental ms | full ms | full / scan | CPU: incremental ms | CPU: full ms |"
        " findings | load s | load average |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in measured:
        cpu = size.cpu
        out.append(
            f"| {size.history:,} | {size.new:,} | {size.scan * 1000:.0f} | {size.incremental * 1000:.0f} |"
            f" {size.full * 1000:.0f} | {size.full / size.scan:.1f} |"
            f" {_ms(cpu.get('incremental'))} | {_ms(cpu.get('full'))} | {size.full_run['findings']} |"
            f" {size.load_seconds:.0f} | {', '.join(f'{n:.1f}' for n in size.load_average)} |"
        )
    out += ["", *[f"- {line}" for line in _comparisons(measured)], ""]
    if goals:
        out += ["## Goals", "", *[f"- {'met' if met else '**not met**'}: {name}" for name, met in goals], ""]
    out += ["## Per check (ms, last timed run)", ""]
    for size in measured:
        for mode, run in (("incremental", size.incremental_run), ("full", size.full_run)):
            checks = ", ".join(f"{name} {seconds * 1000:.0f}" for name, seconds in run["checks"].items())
            written = run["checkpoint"].get("seconds", {})
            out.append(
                f"- {size.history:,}, {mode} ({run['sessions']} sessions): {checks}; checkpoint read"
                f" {written.get('read', 0) * 1000:.0f}, written {written.get('write', 0) * 1000:.0f}"
                f" ({run['checkpoint'].get('wallets', 0):,} wallets)"
            )
    out += ["", *METHOD]
    Path(REPORT).write_text("\n".join(out))


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


METHOD = [
    "## Method",
    "",
    "Each history size gets a database of its own. The history is loaded by COPY (`bench/bulk_load.py`: ten"
    " deposits and withdrawals per wallet in every state with money in it, their journal entries, postings and"
    " payout attempts), dated three days back and settled as old payments are, but for about 100 wallets whose"
    " deposit and payout are stuck, then frozen and analyzed. A full run over all tenants writes the checkpoint."
    " Then the day's new transactions are loaded, dated now, and analyzed.",
    "",
    "Timed, interleaved, each repeat starting from the same checkpoint (put back after each run): a plain"
    " `SELECT sum(amount) FROM wallet_posting`; the incremental run (`run_reconciliation(mode='incremental')`:"
    " lock, run record, the wait for older transactions, one snapshot, every check over the rows new or changed"
    " since the checkpoint and the objects of its findings, the wallet totals carried forward, findings stored,"
    " the next checkpoint written); the full run (every check over every row, every wallet's totals rewritten)."
    " Both in two sessions sharing one snapshot (RECONCILIATION_SESSIONS). The CPU columns are the PostgreSQL"
    " backend's CPU time of the same runs in one session without parallel workers: wall-clock time moves with"
    " whatever else this shared machine runs, CPU time much less.",
    "",
    "What grows with what: the incremental run reads the new transactions (index ranges on the ledger's ids and"
    " the transactions' `updated_at`), the wallets (one pass over the wallet table, which grows with players,"
    " not with history) and the objects of the checkpoint's findings; the full run reads every table once per"
    " check and rewrites every wallet's totals.",
    "",
]


if __name__ == "__main__":
    sys.exit(main())
