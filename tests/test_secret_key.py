"""No secret key, no start (with DJANGO_DEBUG off); `make run` keeps a random one in var/local.env.

Each case runs the product's settings in a fresh process, as gunicorn, Celery and
manage.py would load them, with an environment that says exactly what is set.
"""

import os
import stat
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCAL_ENV = REPO / "scripts" / "local-env.sh"
MESSAGE = "DJANGO_SECRET_KEY is not set"
A_KEY = "k" * 20 + "an-explicit-production-key-of-enough-length-0123456789"


def product_env(**changes) -> dict:
    """This process's environment without the settings that decide the case, plus `changes`."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    return {**env, **changes}


def run(command: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_with_debug_off_and_no_key_manage_py_refuses_to_start_with_a_clear_message():
    # given DJANGO_DEBUG off and no DJANGO_SECRET_KEY
    # when manage.py starts
    result = run([sys.executable, "manage.py", "check"], product_env(DJANGO_DEBUG="0"))
    # then it exits non-zero and says why, without a traceback around it
    assert result.returncode != 0
    assert f"Refusing to start: {MESSAGE}" in result.stderr
    assert "Traceback" not in result.stderr


def test_with_debug_off_and_no_key_the_settings_do_not_import():
    # given no key and DJANGO_DEBUG unset (off is the default)
    # when a process loads the settings the way gunicorn and Celery do
    result = run(
        [sys.executable, "-c", "import django; django.setup()"], product_env(DJANGO_SETTINGS_MODULE="config.settings")
    )
    # then loading fails, naming the missing key
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and MESSAGE in result.stderr


def test_with_a_key_the_product_starts():
    result = run([sys.executable, "manage.py", "check"], product_env(DJANGO_DEBUG="0", DJANGO_SECRET_KEY=A_KEY))
    assert result.returncode == 0, result.stderr
    assert MESSAGE not in result.stderr


def test_with_debug_on_a_development_key_is_used():
    result = run([sys.executable, "manage.py", "check"], product_env(DJANGO_DEBUG="1"))
    assert result.returncode == 0, result.stderr


def test_local_env_writes_a_random_key_once_and_reuses_it(tmp_path):
    env_file = tmp_path / "var" / "local.env"
    env = product_env(LOCAL_ENV_FILE=str(env_file))
    # when the wrapper runs a command for the first time
    first = run([str(LOCAL_ENV), "printenv", "DJANGO_SECRET_KEY"], env)
    # then it writes a long random key, readable by this user only, and the command gets it
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50 and len(set(key)) >= 5  # what `check --deploy` asks of a key
    assert f"DJANGO_SECRET_KEY={key}" in env_file.read_text()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    # when it runs again, then the same key is reused
    again = run([str(LOCAL_ENV), "printenv", "DJANGO_SECRET_KEY"], env)
    assert again.stdout.strip() == key
    # and a key set in the environment wins over the file
    explicit = run([str(LOCAL_ENV), "printenv", "DJANGO_SECRET_KEY"], {**env, "DJANGO_SECRET_KEY": A_KEY})
    assert explicit.stdout.strip() == A_KEY


def test_another_machine_gets_another_key(tmp_path):
    keys = set()
    for name in ("one", "two"):
        env = product_env(LOCAL_ENV_FILE=str(tmp_path / name / "local.env"))
        keys.add(run([str(LOCAL_ENV), "printenv", "DJANGO_SECRET_KEY"], env).stdout.strip())
    assert len(keys) == 2


def test_every_command_make_run_starts_gets_the_local_env():
    # `make -n` prints the commands without running them
    result = run(["make", "-n", "run"], product_env())
    assert result.returncode == 0, result.stderr
    starts = [line for line in result.stdout.splitlines() if "manage.py" in line or "honcho" in line]
    assert any("honcho start" in line for line in starts)  # web, the Celery workers, beat and psp are its children
    assert starts and all("scripts/local-env.sh" in line for line in starts), starts
