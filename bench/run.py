"""`make bench`: every load figure in one run, printed and written to docs/benchmarks.md.

pgbench TPC-B is the machine's own ceiling; beside it, in the same run: the service
level (request_withdrawal called directly), the HTTP API, one hot wallet against many
wallets, fresh against duplicate webhooks, and Celery payout dispatch against a no-op
task. Environment: BENCH_SECONDS (default 10) per measurement, BENCH_CLIENTS
(default "1,4,16"), BENCH_REPORT (default docs/benchmarks.md; "-" to skip writing).
"""

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import celery_throughput, http_api, pgbench, service_level, system, webhooks
from bench.common import BENCH_DATABASE_URL, CLIENTS, DURATION, HEADER, recreate_database, use_bench_database

REPORT = os.environ.get("BENCH_REPORT", str(Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"))


def ratio(a, b) -> float:
    return a.rate / b.rate if b.rate else 0.0


def main() -> int:
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

    tokens = http_api.tokens_for(player_ids)
    secret, batches = webhooks.prepare(4)
    payout_ids = celery_throughput.prepare()
    connections.close_all()
    server = http_api.start_server()
    try:
        http = {c: http_api.run(tokens, c) for c in CLIENTS}
        fresh = webhooks.run(secret, batches, "webhooks: fresh events")
        duplicate = webhooks.run(secret, batches, "webhooks: duplicates")
    finally:
        server.terminate()
        server.wait(timeout=30)
    worker = celery_throughput.start_worker()
    try:
        payouts, noop = celery_throughput.run(payout_ids)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    rows = []
    for c in CLIENTS:
        rows += [baseline[c], service[c]] + ([hot[c]] if c in hot else []) + [http[c]]
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
            f"HTTP / service {ratio(http[c], service[c]):.2f}, HTTP / pgbench {ratio(http[c], baseline[c]):.2f}"
            + (f", hot wallet / many wallets {ratio(hot[c], service[c]):.2f}" if c in hot else "")
        )
    lines.append(f"duplicate / fresh webhooks {ratio(duplicate, fresh):.2f}")
    lines.append(f"Celery payout dispatch / no-op task {ratio(payouts, noop):.2f}")
    for line in lines:
        print(line)
    goals = _goals(baseline, service, http, fresh, duplicate)
    print()
    for name, met in goals:
        print(f"goal: {name}: {'met' if met else 'NOT met'}")
    if REPORT != "-":
        _write_report(settings, fsync, rows, lines, goals)
        print(f"\nwritten to {REPORT}")
    return 0


def _goals(baseline, service, http, fresh, duplicate) -> list[tuple[str, bool]]:
    goals = []
    if 4 in CLIENTS:
        goals += [
            ("service level >= 0.40 x pgbench at 4 clients", ratio(service[4], baseline[4]) >= 0.40),
            ("HTTP >= 0.5 x service level at 4 clients", ratio(http[4], service[4]) >= 0.5),
            ("HTTP >= 0.25 x pgbench at 4 clients", ratio(http[4], baseline[4]) >= 0.25),
        ]
    if 16 in CLIENTS:
        goals.append((f"p99 of POST withdrawals/ at 16 clients < 100 ms ({http[16].p99:.1f} ms)", http[16].p99 < 100))
    goals.append(("duplicate webhooks >= 1.5 x fresh ones", ratio(duplicate, fresh) >= 1.5))
    return goals


def _write_report(settings, fsync, rows, lines, goals) -> None:
    now = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    out = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {now}: {os.cpu_count()} cores, {memory:.0f} GiB memory, "
        f"{DURATION:.0f} s per measurement. Regenerate with `make bench`; this file is its output.",
        "",
        "| benchmark | clients | ops/s | p50 ms | p99 ms |",
        "|---|---|---|---|---|",
        *[row.markdown() for row in rows],
        "",
        *[f"- {line}" for line in lines],
        "",
        "## Goals",
        "",
        *[f"- {'met' if met else '**not met**'}: {name}" for name, met in goals],
        "",
        "## What was measured",
        "",
        "- **pgbench TPC-B**: PostgreSQL's own transaction benchmark, scale = most clients; the ceiling of this "
        "machine for small write transactions.",
        "- **service request_withdrawal**: the service function called from client processes, one wallet each: "
        "lock, limit check, withdrawal row, journal entry and postings, history, audit, balance, commit.",
        "- **service: one hot wallet**: the same with every client on one wallet, queueing on its row lock.",
        "- **HTTP POST withdrawals/**: the whole API path under gunicorn (sync workers, 2 x cores + 1): token "
        "authentication, per-player rate limit, idempotency key, the service, the stored response; one request "
        "per connection.",
        "- **webhooks**: signed `payment.succeeded` events over HTTP, 4 clients; fresh events each complete a "
        "deposit, duplicates (the same `webhook-id` again) are acknowledged without touching any money row.",
        "- **Celery**: payout dispatch tasks through one worker (2 prefork children) to the in-process sandbox "
        "PSP, against as many no-op tasks.",
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
    Path(REPORT).write_text("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
