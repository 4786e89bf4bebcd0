"""`POST /api/v1/withdrawals/` over HTTP: gunicorn sync workers (2 x cores + 1), real clients.

Each client is a separate process with its own player, sending one request per TCP
connection (sync workers close after each response) with a fresh Idempotency-Key.
"""

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
import uuid

from bench.common import BENCH_DATABASE_URL, DURATION, Result

PORT = int(os.environ.get("BENCH_HTTP_PORT", "8799"))
WORKERS = 2 * (os.cpu_count() or 1) + 1
BODY = json.dumps({"amount": "1.00", "currency": "EUR"}).encode()


def tokens_for(player_ids: list[int]) -> list[str]:
    from rest_framework.authtoken.models import Token

    from wallet.models import Player

    return [Token.objects.get_or_create(user=Player.objects.get(pk=pk).user)[0].key for pk in player_ids]


def start_server() -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": BENCH_DATABASE_URL,
        "API_PLAYER_RATE": "100000000/min",
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{PORT}",
         "--workers", str(WORKERS), "--worker-class", "sync", "--log-level", "warning"],
        env=env,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def _request(token: str) -> bytes:
    head = (
        f"POST /api/v1/withdrawals/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\n"
        f"Content-Type: application/json\r\nIdempotency-Key: {uuid.uuid4().hex}\r\n"
        f"Content-Length: {len(BODY)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + BODY


def _call(token: str) -> int:
    with socket.create_connection(("127.0.0.1", PORT)) as sock:
        sock.sendall(_request(token))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return int(b"".join(chunks)[9:12])


def _client(token: str, start_at: float, seconds: float, results) -> None:
    for _ in range(3):
        _call(token)  # warm the worker processes' connections
    latencies, failures = [], 0
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.perf_counter() + seconds
    while (now := time.perf_counter()) < deadline:
        status = _call(token)
        latencies.append((time.perf_counter() - now) * 1000)
        failures += status != 201
    results.put((latencies, failures))


def run(tokens: list[str], clients: int, label: str = "HTTP POST withdrawals/") -> Result:
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start_at = time.time() + 2
    procs = [ctx.Process(target=_client, args=(tokens[n], start_at, DURATION, results)) for n in range(clients)]
    for proc in procs:
        proc.start()
    latencies, failures = [], 0
    for _ in procs:
        got, failed = results.get()
        latencies.extend(got)
        failures += failed
    for proc in procs:
        proc.join()
    result = Result(label, clients, len(latencies) - failures, DURATION, latencies)
    result.failures = failures
    return result
