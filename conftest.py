"""Fixtures shared by every app's tests. Tests run on the real PostgreSQL and Redis."""

import os

import pytest

from config.celery import app as celery_app
from core.actors import Actor

# Follow-up work queued on commit (payout dispatch) runs inline in tests, unless a test
# starts a real worker (payouts/tests/worker.py). Tenants from the factories have no
# PSP account, so an approval does not pay out unless the test gives them one.
celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True, scope="session")
def _sandbox_game_dir(tmp_path_factory):
    """seed_demo registers the demo casinos with the sandbox game (its providers.json, under
    SANDBOX_GAME_DIR): tests do it in a directory of their own, never in the checkout's var/."""
    os.environ["SANDBOX_GAME_DIR"] = str(tmp_path_factory.mktemp("sandbox_game"))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories give every user a password; PBKDF2 would dominate the suite's runtime."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_refusals_counted_yet():
    """Refusal counters live in Redis per address and minute, and every test client comes from
    127.0.0.1: each test starts with none (its tally rows roll back with its transaction)."""
    from core.refusals import delete_counters

    delete_counters()


class HeldClock:
    """core.refusals' clock, held still so that a test's refusals share one minute."""

    def __init__(self, now):
        self.now = now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


@pytest.fixture
def refusal_clock(monkeypatch):
    """Refusals counted at 10 s into the current minute until the test advances the clock."""
    from django.utils import timezone

    from core import refusals

    clock = HeldClock(timezone.now().replace(second=10, microsecond=0))
    monkeypatch.setattr(refusals, "clock", lambda: clock.now)
    return clock


@pytest.fixture
def system_actor():
    return Actor.system("tests")


@pytest.fixture
def psp_actor():
    return Actor.psp("sandbox")


# --- A casino's staff. Each test package defines its own `tenant` fixture. --------------
@pytest.fixture
def other_tenant():
    from tenants.tests.factories import TenantFactory

    return TenantFactory(allowed_currencies=["EUR", "USD"])


@pytest.fixture
def viewer(tenant):
    from wallet.tests.staff import VIEWER, operator_user

    return operator_user(tenant, VIEWER)


@pytest.fixture
def finance(tenant):
    from wallet.tests.staff import FINANCE, operator_user

    return operator_user(tenant, FINANCE)


@pytest.fixture
def finance2(tenant):
    """A second finance operator of the same casino (four eyes)."""
    from wallet.tests.staff import FINANCE, operator_user

    return operator_user(tenant, FINANCE)


@pytest.fixture
def admin(tenant):
    from wallet.tests.staff import ADMIN, operator_user

    return operator_user(tenant, ADMIN)


@pytest.fixture
def admin2(tenant):
    """A second admin of the same casino (policy maker-checker)."""
    from wallet.tests.staff import ADMIN, operator_user

    return operator_user(tenant, ADMIN)


@pytest.fixture
def superuser():
    from wallet.tests.staff import platform_superuser

    return platform_superuser()


@pytest.fixture
def staff(viewer, finance, admin):
    """The casino's operators by role."""
    from wallet.tests.staff import ADMIN, FINANCE, VIEWER

    return {VIEWER: viewer, FINANCE: finance, ADMIN: admin}
