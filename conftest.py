"""Fixtures shared by every app's tests. Tests run on the real PostgreSQL and Redis."""

import pytest

from wallet.models import Actor


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
