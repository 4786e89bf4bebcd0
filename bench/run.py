"""`make bench`: pgbench TPC-B and the service level in one run, with their ratios.

Environment: BENCH_SECONDS (default 10) per measurement, BENCH_CLIENTS (default "1,4").
"""

import os
import sys

from bench import pgbench, service_level
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

    print()
    print(HEADER)
    for c in CLIENTS:
        print(baseline[c].row())
        print(service[c].row())
    print()
    for c in CLIENTS:
        ratio = service[c].rate / baseline[c].rate if baseline[c].rate else 0
        print(f"service / pgbench at {c} client(s): {ratio:.2f}")
    goal = 4 if 4 in CLIENTS else max(CLIENTS)
    ratio = service[goal].rate / baseline[goal].rate
    print(f"goal: service level >= 0.40 x pgbench at {goal} clients: {'met' if ratio >= 0.40 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
