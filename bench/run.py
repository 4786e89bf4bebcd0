"""`make bench`: pgbench TPC-B, the service level and the HTTP API in one run, with ratios.

Environment: BENCH_SECONDS (default 10) per measurement, BENCH_CLIENTS (default "1,4").
"""

import os
import sys

from bench import http_api, pgbench, service_level
from bench.common import BENCH_DATABASE_URL, CLIENTS, DURATION, HEADER, psql, recreate_database, use_bench_database


def main() -> int:
    print(f"Benchmarks: {DURATION:.0f} s per measurement, clients {CLIENTS}, {os.cpu_count()} cores")
    print(
        f"PostgreSQL: {psql('select version()').split(' on ')[0]}; "
        f"synchronous_commit={psql('show synchronous_commit')}, shared_buffers={psql('show shared_buffers')}"
    )
    pgbench.prepare(scale=max(max(CLIENTS), 1))
    baseline = {c: pgbench.run(c) for c in CLIENTS}

    use_bench_database()
    recreate_database(BENCH_DATABASE_URL.rsplit("/", 1)[1])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    player_ids = service_level.prepare(max(CLIENTS))
    service = {c: service_level.run(player_ids, c) for c in CLIENTS}

    tokens = http_api.tokens_for(player_ids)
    from django.db import connections

    connections.close_all()
    server = http_api.start_server()
    try:
        http = {c: http_api.run(tokens, c) for c in CLIENTS}
    finally:
        server.terminate()
        server.wait(timeout=30)

    print()
    print(HEADER)
    for c in CLIENTS:
        for result in (baseline[c], service[c], http[c]):
            print(result.row())
    print()
    for c in CLIENTS:
        print(
            f"at {c} client(s): service / pgbench {ratio(service[c], baseline[c]):.2f}, "
            f"HTTP / service {ratio(http[c], service[c]):.2f}, HTTP / pgbench {ratio(http[c], baseline[c]):.2f}"
            + (f", {http[c].failures} HTTP responses were not 201" if http[c].failures else "")
        )
    goal = 4 if 4 in CLIENTS else max(CLIENTS)
    goals = [
        ("service level >= 0.40 x pgbench", ratio(service[goal], baseline[goal]) >= 0.40),
        ("HTTP >= 0.5 x service level", ratio(http[goal], service[goal]) >= 0.5),
    ]
    for name, met in goals:
        print(f"goal at {goal} clients: {name}: {'met' if met else 'NOT met'}")
    return 0


def ratio(a, b) -> float:
    return a.rate / b.rate if b.rate else 0.0


if __name__ == "__main__":
    sys.exit(main())
