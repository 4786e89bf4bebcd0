"""The README's two commands stand alone: `make test` installs the browser its tests need, the
ports are named. The installer runs here against stand-ins for apt-get and sudo on PATH.
"""

import os
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENSURE_CHROMIUM = REPO / "scripts" / "ensure-chromium.sh"


def stand_in(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text(f"#!/usr/bin/env bash\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def ensure_chromium(tmp_path: Path, browser: Path) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run the installer with CHROMIUM=browser and a fake apt-get that "installs" it; returns the apt calls."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "apt-calls"
    bin_dir.mkdir(exist_ok=True)
    stand_in(
        bin_dir,
        "apt-get",
        f'echo "$*" >> {calls}\nif [ "$1" = install ]; then printf "#!/bin/sh\\n" > {browser}; chmod +x {browser}; fi',
    )
    stand_in(bin_dir, "sudo", 'exec "$@"')
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CHROMIUM": str(browser)}
    result = subprocess.run([str(ENSURE_CHROMIUM)], env=env, capture_output=True, text=True, timeout=60)
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_a_machine_with_the_browser_installs_nothing(tmp_path):
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    result, apt_calls = ensure_chromium(tmp_path, browser)
    assert result.returncode == 0, result.stderr
    assert apt_calls == []


def test_a_machine_without_the_browser_gets_debians_chromium(tmp_path):
    browser = tmp_path / "chromium"
    # when the browser the tests launch is missing
    result, apt_calls = ensure_chromium(tmp_path, browser)
    # then apt-get installs the chromium package, and the browser is there afterwards
    assert result.returncode == 0, result.stderr
    assert apt_calls == ["update -q", "install -y -q --no-install-recommends chromium"]
    assert os.access(browser, os.X_OK)


def test_an_install_that_does_not_bring_the_browser_fails_clearly(tmp_path):
    browser = tmp_path / "elsewhere" / "chromium"  # apt-get cannot put it there
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_in(bin_dir, "apt-get", "exit 0")
    stand_in(bin_dir, "sudo", 'exec "$@"')
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CHROMIUM": str(browser)}
    result = subprocess.run([str(ENSURE_CHROMIUM)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "still missing" in result.stderr


def test_make_test_and_ci_use_the_same_installer():
    dry_run = subprocess.run(["make", "-n", "test"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert dry_run.returncode == 0, dry_run.stderr
    lines = dry_run.stdout.splitlines()
    installer = next(i for i, line in enumerate(lines) if "scripts/ensure-chromium.sh" in line)
    tests = next(i for i, line in enumerate(lines) if line.strip().endswith("/pytest"))
    assert installer < tests  # before the tests start
    ci = (REPO / ".ci" / "run").read_text()
    assert "scripts/ensure-chromium.sh" in ci and "apt-get" not in ci


def test_the_readme_names_the_ports():
    readme = (REPO / "README.md").read_text()
    for name in ("PORT", "SANDBOX_PSP_PORT", "SANDBOX_GAME_PORT"):
        assert f"`{name}`" in readme, name
