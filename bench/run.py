"""`make bench`: every load figure in one run, printed and written to docs/benchmarks.md.

pgbench TPC-B is the machine's own ceiling; beside it, in the same run: the service
level (request_withdrawal called directly), the HTTP API with connection reuse and with a
new connection per request, one hot wallet against many wallets, fresh against duplicate
webhooks, and Celery payout dispatch against a no-op task; then where the time of one
`POST withdrawals/` goes (bench/profile_request.py). docs/benchmarks-profile.md (written by
hand: the profile before and after the fast HTTP path, the servers compared) is carried
into the report as it is. Environment: BENCH_SECONDS (default 10) per measurement,
BENCH_CLIENTS (default "1,4,16"), BENCH_REPORT (default docs/benchmarks.md; "-" to skip
writing).
"""

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import celery_throughput, http_api, pgbench, profile_request, service_level, system, webhooks
from bench.common import (
    BENCH_DATABASE_URL,
    CLIENTS,
    DURATION,
    HEADER,
    MARKDOWN_HEADER,
    recreate_database,
    use_bench_database,
)

DOCS = Path(__file__).resolve().parent.parent / "docs"
REPORT = os.environ.get("BENCH_REPORT", str(DOCS / "benchmarks.md"))
# Sections the report carries over from files of their own (a profile and its before/after).
KEPT_SECTIONS = ["benchmarks-games.md", "benchmarks-dispatch-profile.md"]
PROFILE_NOTES = DOCS / "benchmarks-profile.md"
KEEP, CLOSE = http_api.KEEP_ALIVE, http_api.CLOSE


def ratio(a, b) -> float:
    return a.rate / b.rate if b.rate else 0.0


def main() -> int:
    load_before = os.getloadavg()
    print(f"Benchmarks: {DURATION:.0f} s per measurement, clients {CLIENTS}, {os.cpu_count()} cores")
    settings = system.postgres_settings()
    fsync = system.fsync_speed()
    print("PostgreSQL:", ", ".join(f"{k}={v}" for k, v in settings.items()))
    print("pg_test_fsync:", "; ".join(f"{k}: {v}" for k, v in fsync.items()))

    pgbench.prepare(scale=max(max(CLIENTS), 1))
    baseline = {c: pgbench.run(c) for c in CLIENTS}

    use_bench_database()
    recreate_database(BENCH_DATABASE_URL.rsplit("/", 1)[1])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    player_ids = service_level.prepare(max(CLIENTS))
    service = {c: service_level.run(player_ids, c) for c in CLIENTS}
    hot = {c: service_level.run(player_ids, c, hot=True) for c in CLIENTS if c > 1}
    card_pairs = service_level.prepare_card_players(max(CLIENTS))
    closed = {c: service_level.run_closed_loop(card_pairs, c) for c in CLIENTS}

    tokens = http_api.tokens_for(player_ids)
    secret, batches = webhooks.prepare(4)
    payout_ids = celery_throughput.prepare()
    connections.close_all()
    server = http_api.start_server()
    try:
        http = {(c, mode): http_api.run(tokens, c, mode, server=server) for c in CLIENTS for mode in (KEEP, CLOSE)}
        # In this process while the server idles, before the webhooks complete deposits for the
        # first players: a deposit of today brings the fast cash-out check's ledger read into a
        # withdrawal (docs/benchmarks-profile.md).
        profile = _profile(tokens[0])
        fresh = webhooks.run(secret, batches, "webhooks: fresh events")
        duplicate = webhooks.run(secret, batches, "webhooks: duplicates")
    finally:
        http_api.stop_server(server)
    worker = celery_throughput.start_worker()
    try:
        payouts, noop = celery_throughput.run(payout_ids)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    rows = []
    for c in CLIENTS:
        rows += [baseline[c], service[c]] + ([hot[c]] if c in hot else []) + [closed[c], http[c, KEEP], http[c, CLOSE]]
    rows += [fresh, duplicate, payouts, noop]
    print()
    print(HEADER)
    for row in rows:
        print(row.row() + (f"   ({row.failures} failed)" if row.failures else ""))
    print()
    lines = []
    for c in CLIENTS:
        lines.append(
            f"at {c} client(s): service / pgbench {ratio(service[c], baseline[c]):.2f}, "
            f"HTTP / service {ratio(http[c, KEEP], service[c]):.2f} (new connection each "
            f"{ratio(http[c, CLOSE], service[c]):.2f}), HTTP / pgbench {ratio(http[c, KEEP], baseline[c]):.2f} "
            f"(new connection each {ratio(http[c, CLOSE], baseline[c]):.2f})"
            + (f", hot wallet / many wallets {ratio(hot[c], service[c]):.2f}" if c in hot else "")
            + f", closed loop to a card / many wallets {ratio(closed[c], service[c]):.2f}"
        )
    lines.append(f"duplicate / fresh webhooks {ratio(duplicate, fresh):.2f}")
    lines.append(f"Celery payout dispatch / no-op task {ratio(payouts, noop):.2f}")
    lines += _cpu_ratio_lines(service, http)
    for line in lines:
        print(line)
    cpu = _cpu_table(service, http)
    print()
    print("\n".join(cpu))
    print()
    print("\n".join(profile))
    goals = _goals(baseline, service, http, fresh, duplicate, payouts, noop)
    print()
    for name, met in goals:
        print(f"goal: {name}: {'met' if met else 'NOT met'}")
    if REPORT != "-":
        load = (load_before[0], os.getloadavg()[0])
        _write_report(settings, fsync, rows, lines, goals, cpu, profile, load)
        print(f"\nwritten to {REPORT}")
    return 0


def _goals(baseline, service, http, fresh, duplicate, payouts, noop) -> list[tuple[str, bool]]:
    goals = []
    if 4 in CLIENTS:
        goals += [
            ("service level >= 0.40 x pgbench at 4 clients", ratio(service[4], baseline[4]) >= 0.40),
            (
                "HTTP with connection reuse >= 0.5 x service level at 4 clients",
                ratio(http[4, KEEP], service[4]) >= 0.5,
            ),
            ("HTTP with connection reuse >= 0.25 x pgbench at 4 clients", ratio(http[4, KEEP], baseline[4]) >= 0.25),
        ]
    if 16 in CLIENTS:
        p99 = http[16, KEEP].p99
        goals.append((f"p99 of POST withdrawals/ at 16 clients with connection reuse < 50 ms ({p99:.1f} ms)", p99 < 50))
    goals.append(("duplicate webhooks >= 1.5 x fresh ones", ratio(duplicate, fresh) >= 1.5))
    goals.append(("Celery payout dispatch >= 0.25 x the no-op task", ratio(payouts, noop) >= 0.25))
    return goals


def _cpu_table(service, http) -> list[str]:
    """CPU milliseconds per operation where measured: the application's processes (the service's
    client processes, the web server's), PostgreSQL's backends, the HTTP load generator."""
    out = [
        "| benchmark | clients | application CPU ms | PostgreSQL CPU ms | client CPU ms | total ms "
        "| operations/s the cores could carry |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = [service[c] for c in CLIENTS] + [http[c, mode] for c in CLIENTS for mode in (KEEP, CLOSE)]
    for result in rows:
        parts = result.cpu_ms_per_operation()
        if not parts:
            continue
        total = sum(parts.values())
        ceiling = (os.cpu_count() or 1) * 1000 / total if total else float("nan")
        client = f"{parts['client']:.2f}" if "client" in parts else ""
        out.append(
            f"| {result.name} | {result.clients} | {parts.get('app', 0):.2f} | {parts.get('db', 0):.2f} | {client} "
            f"| {total:.2f} | {ceiling:.0f} |"
        )
    return out


def _cpu_ratio_lines(service, http) -> list[str]:
    """HTTP against the service level by CPU per operation: what the throughput ratio is on a
    machine where nothing else competes for the cores (the measured one, on a shared machine, is not)."""
    lines = []
    for c in CLIENTS:
        svc = sum(service[c].cpu_ms_per_operation().values())
        keep = sum(http[c, KEEP].cpu_ms_per_operation().values())
        if svc and keep:
            lines.append(f"at {c} client(s): by CPU per operation, HTTP (connection reuse) / service {svc / keep:.2f}")
    return lines


def _profile(token: str) -> list[str]:
    """Where the time of one POST withdrawals/ goes, in this process (bench/profile_request.py)."""
    fresh = profile_request.profile(token)
    replay = profile_request.profile(token, replay=True)
    return [
        *profile_request.markdown(fresh, ": a new key"),
        "",
        *profile_request.markdown(replay, ": a replay"),
    ]


def _write_report(settings, fsync, rows, lines, goals, cpu, profile, load) -> None:
    now = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    out = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {now}: {os.cpu_count()} cores, {memory:.0f} GiB memory, "
        f"{DURATION:.0f} s per measurement; load average {load[0]:.1f} before, {load[1]:.1f} after (other "
        "work on the machine competes for the cores: compare ratios within one run). Regenerate with "
        "`make bench`; this file is its output.",
        "",
        *MARKDOWN_HEADER,
        *[row.markdown() for row in rows],
        "",
        *[f"- {line}" for line in lines],
        "",
        "## Goals",
        "",
        *[f"- {'met' if met else '**not met**'}: {name}" for name, met in goals],
        "",
        "## CPU per operation",
        "",
        "Over each measurement above: the CPU time of the application's processes (the service level's client "
        "processes; the web server's workers), of the PostgreSQL backends serving them and of the HTTP load "
        "generator, per operation. The last column is what this machine's cores could carry at that cost if "
        "nothing else ran; on a shared machine the operations per second above fall short of it.",
        "",
        *cpu,
        "",
        "## Where the time goes (this run)",
        "",
        "One `POST withdrawals/` at a time, handed to the WSGI application in the benchmark's own process "
        "(no socket; bench/profile_request.py): wall time, the process's CPU time, SQL round trips (a commit "
        "is one) and their time, per stage.",
        "",
        *profile,
        "",
        *_profile_notes(),
        "## What was measured",
        "",
        "- **pgbench TPC-B**: PostgreSQL's own transaction benchmark, scale = most clients; the ceiling of this "
        "machine for small write transactions.",
        "- **service request_withdrawal**: the service function called from client processes, one wallet each: "
        "lock, limit check, withdrawal row, journal entry and postings, history, audit, balance, commit.",
        "- **service: one hot wallet**: the same with every client on one wallet, queueing on its row lock.",
        "- **service: closed loop to a card**: the same, one wallet each, for players who paid by card "
        f"({service_level.CARD_HISTORY} earlier card deposits) and withdraw to it: the service also sums the "
        "card's net deposits under the wallet's lock (the run's own withdrawals to it join that history).",
        "- **HTTP POST withdrawals/**: the whole API path under the product's web server (granian, "
        "scripts/web.sh, as the Procfile runs it): token authentication, per-player rate limit, idempotency "
        "key, the service, the stored response. The load comes from wrk (one thread per connection, each "
        "connection one player, a fresh Idempotency-Key per request), with the connection kept open "
        "(keep-alive) and with a new one per request; its CPU is the client CPU column.",
        "- **webhooks**: signed `payment.succeeded` events over HTTP, 4 clients; fresh events each complete a "
        "deposit, duplicates (the same `webhook-id` again) are acknowledged without touching any money row.",
        "- **Celery**: payout dispatch tasks through one worker (2 prefork children) to the in-process sandbox "
        "PSP, against as many no-op tasks, in alternating rounds.",
        "",
        "## Reconciliation",
        "",
        "`make bench-reconciliation` measures reconciliation (incremental over a day's payments, full over the "
        "history, at 1,000,000 and, with `SIZE=10000000`, 10,000,000 transactions) and writes its own file: "
        "[benchmarks-reconciliation.md](benchmarks-reconciliation.md).",
        "",
        "## PostgreSQL",
        "",
        "| setting | value |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in settings.items()],
        "",
        "`pg_test_fsync -s 2` on the data disk:",
        "",
        *[f"- {k}: {v}" for k, v in fsync.items()],
        "",
    ]
    for name in KEPT_SECTIONS:  # written by hand, measured by their own commands: kept as they are
        section = DOCS / name
        if section.exists():
            out += [section.read_text().rstrip(), ""]
    Path(REPORT).write_text("\n".join(out))


NOTES_BEGIN, NOTES_END = "<!-- from docs/benchmarks-profile.md -->", "<!-- end of docs/benchmarks-profile.md -->"


def _profile_notes() -> list[str]:
    """docs/benchmarks-profile.md as it is (written by hand, kept across runs), its title one level down."""
    if not PROFILE_NOTES.exists():
        return []
    text = PROFILE_NOTES.read_text().strip().splitlines()
    return [NOTES_BEGIN, *[("#" + line if line.startswith("#") else line) for line in text], NOTES_END, ""]


def refresh_notes() -> int:
    """`python -m bench.run --notes-only`: carry an edited docs/benchmarks-profile.md into the report
    without measuring anything again."""
    report = Path(REPORT).read_text()
    if NOTES_BEGIN not in report or NOTES_END not in report:
        print(f"{REPORT} has no notes section; run `make bench`")
        return 1
    head, rest = report.split(NOTES_BEGIN, 1)
    tail = rest.split(NOTES_END, 1)[1]
    notes = "\n".join(_profile_notes()[:-1])
    Path(REPORT).write_text(head + notes + tail)
    print(f"notes carried into {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(refresh_notes() if "--notes-only" in sys.argv else main())
