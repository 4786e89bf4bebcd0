"""`POST /api/v1/withdrawals/` over HTTP: the product's web server, real clients.

Each client is one connection with its own player and a fresh Idempotency-Key per request,
in two ways: the connection kept open (HTTP/1.1 keep-alive, as PSPs, aggregators and casino
front ends use pools) and a new connection for every request (`Connection: close`).

The load comes from `wrk` (Debian's package, a compiled load generator: one thread per
connection, bench/withdrawals.lua), so the client's own CPU stays small; it is measured
(the CPU time of the wrk process over the run) and reported beside the figures. Where wrk is
missing, `scripts/ensure-wrk.sh` installs it; where that fails too, a plain Python client
(one process per connection, http.client) stands in, its CPU measured the same way.

Servers (SERVERS): the product's own, `scripts/web.sh` (granian, as the Procfile runs it),
and gunicorn's sync and gthread workers for comparison (bench/http_servers.py).
"""

import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench.common import (
    BENCH_DATABASE_URL,
    DURATION,
    Result,
    children_cpu_seconds,
    pid_cpu_seconds,
    proc_stat,
    psql,
    run_client_processes,
    wait_until,
)

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_HTTP_PORT", "8799"))
CORES = os.cpu_count() or 1
BIN = Path(sys.executable).parent
BODY = json.dumps({"amount": "1.00", "currency": "EUR"}).encode()
PATH = "/api/v1/withdrawals/"
KEEP_ALIVE, CLOSE = "keep-alive", "close"
WARMUP_SECONDS = 1.0

# name -> command line (port substituted); the first is the product's (the Procfile's web line).
SERVERS = {
    "granian": [str(ROOT / "scripts" / "web.sh")],
    "gunicorn sync": [
        str(BIN / "gunicorn"),
        "config.wsgi",
        "--bind",
        "127.0.0.1:{port}",
        "--workers",
        str(2 * CORES + 1),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
    ],
    "gunicorn gthread": [
        str(BIN / "gunicorn"),
        "config.wsgi",
        "--bind",
        "127.0.0.1:{port}",
        "--workers",
        str(CORES),
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--log-level",
        "warning",
    ],
}
PRODUCT_SERVER = "granian"


def tokens_for(player_ids: list[int]) -> list[str]:
    from rest_framework.authtoken.models import Token

    from players.models import Player

    return [Token.objects.get_or_create(user=Player.objects.get(pk=pk).user)[0].key for pk in player_ids]


def server_env() -> dict:
    return {
        **os.environ,
        "DATABASE_URL": BENCH_DATABASE_URL,
        "API_PLAYER_RATE": "100000000/min",
        "DJANGO_DEBUG": "0",
        "DJANGO_SSL_REDIRECT": "0",  # the load speaks plain HTTP to the server, as behind a TLS proxy
        "LOG_LEVEL": "WARNING",
        "WEB_LOG_LEVEL": "warning",
        "WEB_ACCESS_LOG": "0",
        "CELERY_QUEUE": "bench-unconsumed",
        "PORT": str(PORT),
        # Threads, and their database connections, live through the run (granian ends idle ones after 30 s).
        "GRANIAN_BLOCKING_THREADS_IDLE_TIMEOUT": "600",
    }


def start_server(kind: str = PRODUCT_SERVER) -> subprocess.Popen:
    command = [part.format(port=PORT) for part in SERVERS[kind]]
    server = subprocess.Popen(command, env=server_env(), cwd=ROOT, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"{kind} exited with {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.5).close()
            _wait_for_app(deadline)
            return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"{kind} did not start")


def _wait_for_app(deadline: float) -> None:
    """Listening is not ready: granian binds before its workers have loaded the application."""
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
            connection.request("GET", PATH, headers={"Connection": "close"})  # 401 without a token
            if connection.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM the server's process group (master and workers), SIGKILL what is left after 30 s."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    except ProcessLookupError:
        pass


# --- CPU per request: the web server's processes and the database's backends ------------------


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) of the live processes of one process group."""
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        fields = proc_stat(pid)
        if fields and int(fields[2]) == pgid:
            total += pid_cpu_seconds(pid)
    return total


def database_cpu_seconds(database: str) -> dict[str, float]:
    """CPU time of each PostgreSQL backend connected to `database` (this machine's server), by pid."""
    pids = psql(f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'").split()
    return {pid: pid_cpu_seconds(pid) for pid in pids}


class CpuMeter:
    """CPU of the web server's process group and of the bench database's backends over a run.

    Per backend: what it spent between the two readings, from zero if it connected meanwhile.
    A backend that left during the run is not counted (the server keeps its connections and
    granian its threads: bench/http_api.server_env), so the figure is never more than spent."""

    def __init__(self, server: subprocess.Popen | None):
        self.server = server
        self.database = BENCH_DATABASE_URL.rsplit("/", 1)[1]

    def __enter__(self):
        self.web = group_cpu_seconds(self.server.pid) if self.server else 0.0
        self._backends = database_cpu_seconds(self.database)
        return self

    def __exit__(self, *exc):
        self.web = (group_cpu_seconds(self.server.pid) if self.server else 0.0) - self.web
        after = database_cpu_seconds(self.database)
        self.db = sum(spent - self._backends.get(pid, 0.0) for pid, spent in after.items())


# --- wrk ----------------------------------------------------------------------------------


def wrk_path() -> str | None:
    """wrk, installed by scripts/ensure-wrk.sh when missing (None if that is not possible here)."""
    found = shutil.which("wrk")
    if found is None and os.environ.get("BENCH_NO_WRK") != "1":
        subprocess.run([str(ROOT / "scripts" / "ensure-wrk.sh")], check=False)
        found = shutil.which("wrk")
    return None if os.environ.get("BENCH_NO_WRK") == "1" else found


def _wrk(wrk: str, tokens: list[str], clients: int, mode: str, seconds: float) -> tuple[dict, float]:
    command = [wrk, "-t", str(clients), "-c", str(clients), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s"]
    command += ["-s", str(ROOT / "bench" / "withdrawals.lua"), f"http://127.0.0.1:{PORT}{PATH}"]
    command += ["--", mode, uuid.uuid4().hex, *tokens[:clients]]
    cpu_before = children_cpu_seconds()
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    cpu = children_cpu_seconds() - cpu_before
    found = re.search(r"^WRK-RESULT (.*)$", out, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    return json.loads(found.group(1)), cpu


def _run_wrk(wrk: str, tokens: list[str], clients: int, mode: str, name: str, server) -> Result:
    _wrk(wrk, tokens, clients, mode, WARMUP_SECONDS)  # every worker connects to the database first
    with CpuMeter(server) as meter:
        summary, cpu = _wrk(wrk, tokens, clients, mode, DURATION)
    seconds = summary["duration_us"] / 1e6
    failures = summary["status_errors"] + summary["socket_errors"]
    result = Result(
        name,
        clients,
        summary["requests"] - summary["status_errors"],
        seconds,
        [],
        percentiles_ms=(summary["p50_us"] / 1000, summary["p99_us"] / 1000),
        client_cpu=cpu / seconds,
    )
    result.failures = failures
    if server is not None:
        result.cpu_seconds = {"app": meter.web, "db": meter.db, "client": cpu}
    return result


# --- the Python client, where wrk cannot be had ---------------------------------------------


def _python_client(token: str, mode: str, start_at: float, seconds: float, results) -> None:
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    if mode == CLOSE:
        headers["Connection"] = "close"
    connection = None

    def send() -> int:
        nonlocal connection
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        connection.request("POST", PATH, body=BODY, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
        response = connection.getresponse()
        response.read()
        if mode == CLOSE or response.will_close:
            connection.close()
            connection = None
        return response.status

    for _ in range(3):
        send()
    latencies, failures = [], 0
    wait_until(start_at)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    deadline = time.perf_counter() + seconds
    while (now := time.perf_counter()) < deadline:
        failures += send() != 201
        latencies.append((time.perf_counter() - now) * 1000)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    results.put((latencies, failures, cpu))


def _run_python(tokens: list[str], clients: int, mode: str, name: str, server) -> Result:
    cpu: list[float] = []
    with CpuMeter(server) as meter:
        result = run_client_processes(
            _python_client, [(tokens[n], mode) for n in range(clients)], DURATION, name, extra=cpu
        )
    result.client_cpu = sum(cpu) / DURATION
    if server is not None:
        result.cpu_seconds = {"app": meter.web, "db": meter.db, "client": sum(cpu)}  # web: an upper bound
    return result


# --- the benchmark --------------------------------------------------------------------------


def label(mode: str) -> str:
    return "HTTP POST withdrawals/ " + ("(keep-alive)" if mode == KEEP_ALIVE else "(new connection each)")


def run(tokens: list[str], clients: int, mode: str = KEEP_ALIVE, name: str | None = None, server=None) -> Result:
    """One measurement; with `server` (start_server's process) the CPU it, the database and the
    client spent is kept too (result.cpu_seconds)."""
    name = name or label(mode)
    wrk = wrk_path()
    if wrk is not None:
        return _run_wrk(wrk, tokens, clients, mode, name, server)
    return _run_python(tokens, clients, mode, name + " [Python client]", server)


def cpu_per_request(result: Result) -> tuple[float, float, float]:
    """Milliseconds of CPU per request: web server, PostgreSQL, client (nan where not measured)."""
    parts = result.cpu_ms_per_operation()
    nan = float("nan")
    return parts.get("app", nan), parts.get("db", nan), parts.get("client", nan)


# --- one request, for webhooks.py and scripts ------------------------------------------------


def call(raw_request: bytes) -> int:
    """Send one request on its own connection and return the status code."""
    with socket.create_connection(("127.0.0.1", PORT)) as sock:
        sock.sendall(raw_request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return int(b"".join(chunks)[9:12])


def request_bytes(method: str, path: str, headers: dict, body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
