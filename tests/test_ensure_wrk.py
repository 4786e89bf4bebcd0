"""`make bench` brings its own load generator: scripts/ensure-wrk.sh installs Debian's wrk where it
is missing, and says so and fails (the benchmark then uses its Python client) where it cannot.
The installer runs here against stand-ins for apt-get and sudo on PATH."""

import os
import subprocess
from pathlib import Path

from tests.test_fresh_machine import stand_in

REPO = Path(__file__).resolve().parent.parent
ENSURE_WRK = REPO / "scripts" / "ensure-wrk.sh"


def ensure_wrk(tmp_path: Path, wrk: Path, apt_body: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    bin_dir, calls = tmp_path / "bin", tmp_path / "apt-calls"
    bin_dir.mkdir(exist_ok=True)
    stand_in(bin_dir, "apt-get", f'echo "$*" >> {calls}\n{apt_body}')
    stand_in(bin_dir, "sudo", 'exec "$@"')
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "WRK": str(wrk)}
    result = subprocess.run([str(ENSURE_WRK)], env=env, capture_output=True, text=True, timeout=60)
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_a_machine_with_wrk_installs_nothing(tmp_path):
    wrk = tmp_path / "wrk"
    wrk.write_text("#!/bin/sh\n")
    wrk.chmod(0o755)
    result, apt_calls = ensure_wrk(tmp_path, wrk, "exit 1")
    assert result.returncode == 0, result.stderr
    assert apt_calls == []


def test_a_machine_without_wrk_gets_debians_package(tmp_path):
    wrk = tmp_path / "wrk"
    installs = f'if [ "$1" = install ]; then printf "#!/bin/sh\\n" > {wrk}; chmod +x {wrk}; fi'
    result, apt_calls = ensure_wrk(tmp_path, wrk, installs)
    assert result.returncode == 0, result.stderr
    assert apt_calls == ["update -q", "install -y -q --no-install-recommends wrk"]
    assert os.access(wrk, os.X_OK)


def test_an_install_that_fails_says_the_python_client_stands_in(tmp_path):
    result, _ = ensure_wrk(tmp_path, tmp_path / "wrk", 'if [ "$1" = install ]; then exit 100; fi')
    assert result.returncode != 0
    assert "Python client" in result.stderr
