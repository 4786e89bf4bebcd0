"""`make bench-servers`: each candidate web server, on its own and under the product.

gunicorn sync (2 x cores + 1 workers, one request per connection: sync workers close after
each response), gunicorn gthread (a worker per core, 4 threads, keep-alive) and granian (the
product's, scripts/web.sh: a worker per core, 2 threads). First each serves an application
that does nothing (bench/trivial_wsgi.py) at 4 connections with keep-alive: the server's own
CPU per request. Then the same `POST withdrawals/` load as `make bench` against each, with
connection reuse and with a new connection per request, at BENCH_SERVER_CLIENTS (default
"4,16") clients, with the CPU per request of the server's processes and of PostgreSQL.
BENCH_SERVERS picks some ("granian,gunicorn sync"); a variant sets the web script's
environment: "granian WEB_THREADS=1 WEB_WORKERS=3". Prints the tables; BENCH_SERVERS_REPORT
names a file to write them to (markdown).
"""

import contextlib
import os
import re
import subprocess
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
    alone = [_alone(choice) for choice in CHOICES] if http_api.wrk_path() else []
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
    print("\n".join(alone_markdown(alone)))
    print()
    print(HEADER + CPU_HEADER)
    for row in rows:
        print(_row(row))
    report = os.environ.get("BENCH_SERVERS_REPORT")
    if report:
        with open(report, "w") as out:
            out.write("\n".join([*alone_markdown(alone), "", *markdown(rows)]) + "\n")
    return 0


def _alone(choice: str) -> tuple[str, float, float]:
    """(server, requests/s, server CPU microseconds per request) serving the do-nothing application."""
    with _trivial_app():
        server = _start(choice)
        try:
            wrk = http_api.wrk_path()
            url = f"http://127.0.0.1:{http_api.PORT}/"
            command = [wrk, "-t", "4", "-c", "4", "-d", "5s", url]
            subprocess.run([*command[:6], "1s", url], check=True, capture_output=True)  # warm up
            before = http_api.group_cpu_seconds(server.pid)
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            cpu = http_api.group_cpu_seconds(server.pid) - before
        finally:
            http_api.stop_server(server)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    print(f"{choice}, nothing to do: {requests / 5:.0f}/s, {cpu / requests * 1e6:.0f} us CPU a request", flush=True)
    return choice, requests / 5, cpu / requests * 1e6


@contextlib.contextmanager
def _trivial_app():
    """Point the servers' commands at bench.trivial_wsgi instead of the product for a while."""
    saved = {name: list(command) for name, command in http_api.SERVERS.items()}
    for name, command in http_api.SERVERS.items():
        http_api.SERVERS[name] = [_trivial(part) for part in command]
    os.environ["WEB_APP"] = "bench.trivial_wsgi:application"
    try:
        yield
    finally:
        http_api.SERVERS.update(saved)
        os.environ.pop("WEB_APP", None)


def _trivial(part: str) -> str:
    return "bench.trivial_wsgi:application" if part == "config.wsgi" else part


def alone_markdown(alone) -> list[str]:
    return [
        "| server, serving an application that does nothing (4 connections, keep-alive) | requests/s "
        "| server CPU µs a request |",
        "|---|---|---|",
        *[f"| {name} | {rate:.0f} | {cpu:.0f} |" for name, rate, cpu in alone],
    ]


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
