"""Game bets over HTTP with connection reuse: fresh bets and replays, beside pgbench TPC-B in the same run.

    python -m bench.game_bets

Each client is a process with its own player and game session, keeping one HTTP/1.1
connection open to the product's web server (scripts/web.sh: granian, keep-alive) and sending
signed `bet` calls back to back: fresh ones (a new transaction_id and round each: a spin),
then the same calls again (replays, answered from the stored answer). Goals (issue 15): at
4 clients, fresh bets >= 0.35 x pgbench TPC-B and replays >= 2 x fresh bets; at 16
clients, a bet's p99 < 25 ms.

Its own databases and port, so it can run beside other benchmarks: BENCH_GAME_DATABASE
(default casino_games_bench), BENCH_GAME_PGBENCH (casino_games_pgbench), BENCH_GAME_PORT
(8850), BENCH_SECONDS (10), BENCH_GAME_CLIENTS ("4,16"), WEB_WORKERS / WEB_THREADS (scripts/web.sh).
`make bench` runs it first and carries its report (docs/benchmarks-games.md) into docs/benchmarks.md.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid

DATABASE = os.environ.get("BENCH_GAME_DATABASE", "casino_games_bench")
PGBENCH_DATABASE = os.environ.get("BENCH_GAME_PGBENCH", "casino_games_pgbench")
PORT = int(os.environ.get("BENCH_GAME_PORT", "8850"))
CLIENTS = [int(c) for c in os.environ.get("BENCH_GAME_CLIENTS", "4,16").split(",")]
os.environ["BENCH_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
# `make bench` passes the machine's key (scripts/local-env.sh); run alone, the bench makes one up.
os.environ.setdefault("DJANGO_SECRET_KEY", base64.urlsafe_b64encode(os.urandom(48)).decode())

from bench import pgbench  # noqa: E402 - after the database names are set
from bench.common import (  # noqa: E402
    BENCH_DATABASE_URL,
    DURATION,
    HEADER,
    MARKDOWN_HEADER,
    Result,
    recreate_database,
    run_client_processes,
    use_bench_database,
    wait_until,
)

SLUG = "bench-slots"


def prepare(clients: int) -> tuple[str, list[str]]:
    """A casino with a provider account and a game; a funded player in a session per client."""
    from core.actors import Actor
    from games import providers
    from games.sessions import start_session
    from players.tests.factories import PlayerFactory
    from tenants.tests.factories import TenantFactory
    from wallet.tests.factories import fund

    ops = Actor.system("bench")
    tenant = TenantFactory(slug="bench-games", allowed_currencies=["EUR"])
    account, secret = providers.create_provider_account(tenant, slug=SLUG, name="Bench slots", actor=ops)
    game = providers.create_game(account, code="slot", name="Slot", launch_url="http://127.0.0.1/slot", actor=ops)
    tokens = []
    for _ in range(clients):
        player = PlayerFactory(tenant=tenant)
        fund(player, 10**12)
        started = start_session(
            player=player, game_id=game.pk, currency="EUR", actor=Actor.player(player.user), api_origin="http://x/"
        )
        tokens.append(started.token)
    return secret, tokens


def start_server() -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": BENCH_DATABASE_URL,
        "DJANGO_DEBUG": "0",
        "DJANGO_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "CELERY_QUEUE": "bench-unconsumed",
    }
    # The product's web server as the Procfile starts it (granian, keep-alive).
    env.update({"PORT": str(PORT), "WEB_ACCESS_LOG": "0", "WEB_LOG_LEVEL": "warning"})
    command = [os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts", "web.sh")]
    server = subprocess.Popen(command, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the web server did not start")


def signed(secret: str, body: bytes) -> dict:
    msg_id, ts = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": ts,
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }


def bet_body(token: str, tx: str) -> bytes:
    body = {"session_token": token, "transaction_id": tx, "round_id": f"r-{tx}", "amount": "0.01", "currency": "EUR"}
    return json.dumps(body, separators=(",", ":")).encode()


def _client(secret: str, token: str, mode: str, start_at: float, seconds: float, results) -> None:
    """mode "fresh": new bets; "replay": bets placed first (untimed), then sent again (timed)."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    path = f"/api/v1/games/{SLUG}/bet/"
    prefix = uuid.uuid4().hex[:12]

    def send(body: bytes) -> int:
        conn.request("POST", path, body=body, headers=signed(secret, body))
        response = conn.getresponse()
        response.read()
        return response.status

    placed = []
    for n in range(3 if mode == "fresh" else 200):  # warm up (and, for replays, the bets to replay)
        placed.append(bet_body(token, f"{prefix}-w{n}"))
        send(placed[-1])
    latencies, failures, n = [], 0, 0
    wait_until(start_at)
    deadline = time.perf_counter() + seconds
    while (now := time.perf_counter()) < deadline:
        body = bet_body(token, f"{prefix}-{n}") if mode == "fresh" else placed[n % len(placed)]
        status = send(body)
        latencies.append((time.perf_counter() - now) * 1000)
        failures += status != 200
        n += 1
    conn.close()
    results.put((latencies, failures))


def run(secret: str, tokens: list[str], clients: int, mode: str) -> Result:
    label = f"HTTP game bets: {'replays' if mode == 'replay' else 'fresh'} (keep-alive)"
    result = run_client_processes(_client, [(secret, tokens[n], mode) for n in range(clients)], DURATION, label)
    return result


def ratio(a: Result, b: Result) -> float:
    return a.rate / b.rate if b.rate else 0.0


def main() -> int:
    print(f"Game bets: {DURATION:.0f} s per measurement, clients {CLIENTS}, {os.cpu_count()} cores")
    pgbench.DATABASE = PGBENCH_DATABASE
    pgbench.prepare(scale=max(CLIENTS))
    baseline = {c: pgbench.run(c) for c in CLIENTS}
    use_bench_database()
    recreate_database(DATABASE)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    secret, tokens = prepare(max(CLIENTS))
    connections.close_all()
    server = start_server()
    try:
        fresh = {c: run(secret, tokens, c, "fresh") for c in CLIENTS}
        replay = {c: run(secret, tokens, c, "replay") for c in CLIENTS}
    finally:
        server.terminate()
        server.wait(timeout=30)
    print()
    print(HEADER)
    for c in CLIENTS:
        for row in (baseline[c], fresh[c], replay[c]):
            print(row.row() + (f"   ({row.failures} failed)" if row.failures else ""))
    print()
    for c in CLIENTS:
        print(
            f"at {c} clients: fresh bets / pgbench {ratio(fresh[c], baseline[c]):.2f}, "
            f"replays / fresh bets {ratio(replay[c], fresh[c]):.2f}"
        )
    goals = []
    if 4 in CLIENTS:
        goals += [
            ("fresh bets >= 0.35 x pgbench TPC-B at 4 clients", ratio(fresh[4], baseline[4]) >= 0.35),
            ("replayed bets >= 2 x fresh bets at 4 clients", ratio(replay[4], fresh[4]) >= 2),
        ]
    if 16 in CLIENTS:
        goals.append((f"p99 of a bet at 16 clients < 25 ms ({fresh[16].p99:.1f} ms)", fresh[16].p99 < 25))
    for name, met in goals:
        print(f"goal: {name}: {'met' if met else 'NOT met'}")
    _write_report(baseline, fresh, replay, goals)
    return 0


def _write_report(baseline, fresh, replay, goals) -> None:
    """docs/benchmarks-games.md, which `make bench` carries into docs/benchmarks.md."""
    lines = ["## Game bets (bench/game_bets.py)", "", f"{DURATION:.0f} s per measurement, this run's own pgbench.", ""]
    lines += [*MARKDOWN_HEADER, *[row.markdown() for c in CLIENTS for row in (baseline[c], fresh[c], replay[c])]]
    lines.append("")
    lines += [
        f"- at {c} clients: fresh bets / pgbench {ratio(fresh[c], baseline[c]):.2f}, "
        f"replays / fresh bets {ratio(replay[c], fresh[c]):.2f}"
        for c in CLIENTS
    ]
    lines += ["", *[f"- {'met' if met else '**not met**'}: {name}" for name, met in goals], ""]
    default = os.path.join(os.path.dirname(__file__), "..", "docs", "benchmarks-games.md")
    report = os.environ.get("BENCH_GAME_REPORT", default)
    with open(report, "w") as out:
        out.write("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
