"""`make bench-servers`: the same `POST withdrawals/` load against each candidate web server.

gunicorn sync (2 x cores + 1 workers, one request per connection: sync workers close after
each response), gunicorn gthread (a worker per core, 4 threads, keep-alive) and granian (the
product's, scripts/web.sh), each with connection reuse and with a new connection per request,
at BENCH_SERVER_CLIENTS (default "4,16") clients. BENCH_SERVERS picks some ("granian,gunicorn
sync"); a variant sets the web script's environment: "granian WEB_THREADS=1 WEB_WORKERS=3".
Prints a table; BENCH_SERVERS_REPORT names a file to write it to (markdown).
"""

import os
import sys

from bench import http_api, service_level
from bench.common import BENCH_DATABASE_URL, HEADER, recreate_database, use_bench_database

CLIENTS = [int(c) for c in os.environ.get("BENCH_SERVER_CLIENTS", "4,16").split(",")]
CHOICES = [s.strip() for s in os.environ.get("BENCH_SERVERS", ",".join(http_api.SERVERS)).split(",")]


def _start(choice: str):
    kind = max((name for name in http_api.SERVERS if choice.startswith(name)), key=len)
    settings = choice[len(kind) :].split()
    saved = dict(os.environ)
    os.environ.update(dict(setting.split("=", 1) for setting in settings))
    try:
        return http_api.start_server(kind)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> int:
    use_bench_database()
    recreate_database(BENCH_DATABASE_URL.rsplit("/", 1)[1])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    tokens = http_api.tokens_for(service_level.prepare(max(CLIENTS)))
    connections.close_all()
    rows = []
    for choice in CHOICES:
        server = _start(choice)
        try:
            for clients in CLIENTS:
                for mode in (http_api.KEEP_ALIVE, http_api.CLOSE):
                    result = http_api.run(tokens, clients, mode, name=f"{choice}, {mode}", server=server)
                    print(_row(result), flush=True)
                    rows.append(result)
        finally:
            http_api.stop_server(server)
    print()
    print(HEADER + CPU_HEADER)
    for row in rows:
        print(_row(row))
    report = os.environ.get("BENCH_SERVERS_REPORT")
    if report:
        with open(report, "w") as out:
            out.write("\n".join(markdown(rows)) + "\n")
    return 0


CPU_HEADER = f" {'web ms':>7} {'db ms':>7}"


def _row(result) -> str:
    web, db, _client = http_api.cpu_per_request(result)
    failed = f"   ({result.failures} failed)" if result.failures else ""
    return result.row() + f" {web:>7.2f} {db:>7.2f}" + failed


def markdown(rows) -> list[str]:
    """The table with CPU per request of the web server and of PostgreSQL."""
    out = [
        "| server, connection | clients | ops/s | p50 ms | p99 ms | client CPU | web server CPU ms/request "
        "| PostgreSQL CPU ms/request |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        web, db, _client = http_api.cpu_per_request(row)
        out.append(row.markdown() + f" {web:.2f} | {db:.2f} |")
    return out


if __name__ == "__main__":
    sys.exit(main())
