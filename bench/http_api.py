"""`POST /api/v1/withdrawals/` over HTTP: gunicorn sync workers (2 x cores + 1), real clients.

Each client is a separate process with its own player, sending one request per TCP
connection (sync workers close after each response) with a fresh Idempotency-Key.
"""

import json
import os
import socket
import subprocess
import sys
import time
import uuid

from bench.common import BENCH_DATABASE_URL, DURATION, Result, run_client_processes, wait_until

PORT = int(os.environ.get("BENCH_HTTP_PORT", "8799"))
WORKERS = 2 * (os.cpu_count() or 1) + 1
BODY = json.dumps({"amount": "1.00", "currency": "EUR"}).encode()


def tokens_for(player_ids: list[int]) -> list[str]:
    from rest_framework.authtoken.models import Token

    from players.models import Player

    return [Token.objects.get_or_create(user=Player.objects.get(pk=pk).user)[0].key for pk in player_ids]


def start_server() -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": BENCH_DATABASE_URL,
        "API_PLAYER_RATE": "100000000/min",
        "DJANGO_DEBUG": "0",
        "DJANGO_SSL_REDIRECT": "0",  # the load speaks plain HTTP to gunicorn, as behind a TLS proxy
        "LOG_LEVEL": "WARNING",
        "CELERY_QUEUE": "bench-unconsumed",
    }
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    server = subprocess.Popen(
        [gunicorn, "config.wsgi", "--bind", f"127.0.0.1:{PORT}", "--workers", str(WORKERS), "--log-level", "warning"],
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


def _withdrawal(token: str) -> bytes:
    headers = {
        "Authorization": f"Token {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": uuid.uuid4().hex,
    }
    return request_bytes("POST", "/api/v1/withdrawals/", headers, BODY)


def _client(token: str, start_at: float, seconds: float, results) -> None:
    for _ in range(3):
        call(_withdrawal(token))  # warm the worker processes' connections
    latencies, failures = [], 0
    wait_until(start_at)
    deadline = time.perf_counter() + seconds
    while (now := time.perf_counter()) < deadline:
        status = call(_withdrawal(token))
        latencies.append((time.perf_counter() - now) * 1000)
        failures += status != 201
    results.put((latencies, failures))


def run(tokens: list[str], clients: int) -> Result:
    return run_client_processes(_client, [(tokens[n],) for n in range(clients)], DURATION, "HTTP POST withdrawals/")
