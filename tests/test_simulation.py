"""The short simulation inside `make test`: the live product under concurrent clients and faults.

Runs `python -m simulation` as a subprocess (its own database sim_test_<pid>, its own
Celery queue, the web server, a Celery worker and the sandbox PSP on free ports; never the
pytest database) and asserts zero invariant violations with every fault injected.
`make sim` runs the full version; docs/simulation.md describes both.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEED = int(os.environ.get("SIM_TEST_SEED", "20260101"))

pytestmark = pytest.mark.slow


def run_simulation(command: list[str], timeout: float) -> tuple[int, str]:
    """Run it; on a timeout stop it with SIGTERM, so it stops the processes it started."""
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        stdout, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        try:
            stdout, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, _ = process.communicate()
        return -1, f"timed out after {timeout} s\n" + stdout[-8000:]
    return process.returncode, stdout[-8000:]


def test_short_simulation_keeps_every_invariant(tmp_path):
    # given the short schedule: 800 operations by 8 concurrent clients, every fault switched on
    report_path = tmp_path / "report.json"
    command = [sys.executable, "-m", "simulation", "--seed", str(SEED), "--operations", "800", "--clients", "8"]
    command += ["--database", f"sim_test_{os.getpid()}", "--drain-seconds", "90", "--report-json", str(report_path)]
    # when it runs against the live product
    returncode, output = run_simulation(command, timeout=600)
    # then no invariant is broken, no replay differs and no answer was unexpected
    assert returncode == 0, output
    report = json.loads(report_path.read_text())
    assert report["violation_counts"] == {}, output
    assert report["operations"] >= 700, output
    # and every kind of fault was actually injected
    injected = report["injections"]
    for fault in (
        "duplicate webhooks (same webhook-id)",
        "webhook batches re-sent in shuffled order",
        "celery pool processes killed (SIGKILL)",
        "celery worker killed whole (SIGKILL) and replaced",
        "database connections terminated",
    ):
        assert injected.get(fault, 0) > 0, f"{fault} never happened:\n{output}"
    assert any(name.startswith("PSP steered") for name in injected), output
    assert report["replays"].get("sequential replays identical", 0) > 0, output
    assert report["replays"].get("concurrent twins identical", 0) > 0, output
    # and money came back after it moved: chargebacks (some reversed, some of those charged back again)
    # and payouts returned by the bank
    census = {name: {row[0]: row[1] for row in rows} for name, rows in report["census"].items()}
    assert census["deposits"].get("charged_back", 0) > 0, output
    assert census["deposits"].get("chargeback_reversed", 0) > 0, output
    assert census["deposits"].get("charged_back_again", 0) > 0, output
    assert census["withdrawals"].get("returned", 0) > 0, output
