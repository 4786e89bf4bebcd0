"""`manage.py check --deploy`: nothing to say about production settings; for the plain-HTTP demo,
only the warnings the README explains.

Each run is a fresh process with an environment that says exactly what is set, the way a
deployment would start the product.
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
DECIDING = ("DJANGO_", "SECURE_", "OPERATOR_2FA_REQUIRED", "SESSION_")  # settings the deploy check reads


def check_deploy(**env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(DECIDING)}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def reported(result) -> set[str]:
    return set(re.findall(r"\(([\w.]+\.[WE]\d+)\)", result.stdout + result.stderr))


def production(**changes) -> dict:
    return {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), **changes}


def test_production_settings_pass_the_deploy_check_without_a_warning():
    # given production settings: debug off, a long random key, secure cookies (the default with debug off)
    result = check_deploy(**production(DJANGO_SECURE_COOKIES="1"))
    # then the deploy check finds nothing
    assert result.returncode == 0, result.stderr
    assert reported(result) == set(), result.stdout + result.stderr
    assert "no issues" in result.stdout + result.stderr


def test_production_is_the_default_with_debug_off():
    result = check_deploy(**production())
    assert reported(result) == set(), result.stdout + result.stderr


def test_the_plain_http_demo_has_only_the_warnings_the_readme_explains():
    # given the settings `make run` starts the demo with (plain HTTP, no second factor)
    result = check_deploy(**production(DJANGO_SECURE_COOKIES="0", OPERATOR_2FA_REQUIRED="0"))
    assert result.returncode == 0, result.stderr
    # then each warning is one the README's demo notes name
    warnings = reported(result)
    assert warnings, "the demo should differ from production somewhere"
    unexplained = sorted(w for w in warnings if w not in README)
    assert unexplained == [], f"the README does not explain {unexplained}"


def test_a_weak_key_is_reported():
    # the check is live: a short key is a warning
    result = check_deploy(**production(DJANGO_SECRET_KEY="short"))
    assert "security.W009" in reported(result)
