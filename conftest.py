"""Fixtures shared by every app's tests. Tests run on the real PostgreSQL and Redis."""

import pytest

from config.celery import app as celery_app
from wallet.models import Actor

# Follow-up work queued on commit (payout dispatch) runs inline in tests, unless a test
# starts a real worker (payouts/tests/worker.py). Tenants from the factories have no
# PSP account, so an approval does not pay out unless the test gives them one.
celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories give every user a password; PBKDF2 would dominate the suite's runtime."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def system_actor():
    return Actor.system("tests")


@pytest.fixture
def psp_actor():
    return Actor.psp("sandbox")
