"""The sandbox game as `make run` starts it: its own process, no Django, HTTP only."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from .conftest import SLUG

REPO = Path(__file__).resolve().parents[3]
PRODUCT = {"django", "rest_framework", "config", "core", "tenants", "players", "wallet", "payouts", "reconciliation"}


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - http://127.0.0.1 only
        return response.read()


def post(url: str, body: bytes, headers: dict) -> bytes:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http://127.0.0.1 only
        return response.read()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def outside_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE", "SANDBOX_GAME"))}
    return {**env, **extra}


@pytest.fixture
def game_process(tmp_path, wallet_server, secret):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "games.sandbox", "--dir", str(tmp_path), "--provider", f"{SLUG}={secret}"],
        cwd=REPO,
        env=outside_env(SANDBOX_GAME_PORT=str(port), SANDBOX_GAME_API_URL=wallet_server.origin, SANDBOX_GAME_SEED="s"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    origin = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            get(f"{origin}/health")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the sandbox game did not start: {process.stdout.read()}")
            time.sleep(0.1)
    yield origin
    process.terminate()
    process.wait(timeout=10)


def test_the_process_serves_the_game_and_its_report(game_process, wallet, session):
    # the launch page shows the casino's balance
    page = get(f"{game_process}/play/{SLUG}/slot?session={session}").decode()
    assert 'data-testid="balance" aria-live="polite">100.00</output>' in page
    # a spin is a bet and a win at the casino
    spin = json.dumps({"session": session, "amount": "1.00", "currency": "EUR"}).encode()
    result = json.loads(post(f"{game_process}/play/{SLUG}/slot/spin", spin, {"Content-Type": "application/json"}))
    assert result["state"] in ("won", "lost")
    assert [s.call for s in wallet.seen] == ["balance", "bet", "win"]
    # and both are in today's report
    today = datetime.now(tz=UTC).date().isoformat()
    report = get(f"{game_process}/reports/daily.csv?date={today}").decode()
    assert [line.split(",")[4] for line in report.splitlines()[1:]] == ["bet", "win"]


def test_the_game_loads_without_django_or_any_product_module():
    probe = "import sys, games.sandbox.server; print(sorted({m.split('.')[0] for m in sys.modules}))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, env=outside_env(), capture_output=True, text=True, timeout=30
    )
    assert loaded.returncode == 0, loaded.stderr
    assert PRODUCT.isdisjoint(json.loads(loaded.stdout.replace("'", '"'))), loaded.stdout


def test_make_run_starts_it():
    procfile = (REPO / "Procfile").read_text().splitlines()
    (line,) = [line for line in procfile if line.startswith("game:")]
    assert "-m games.sandbox" in line and "${SANDBOX_GAME_PORT:-8002}" in line
