"""Fixtures shared by every app's tests. Tests run on the real PostgreSQL and Redis."""

import pytest

from wallet.models import Actor


@pytest.fixture
def system_actor():
    return Actor.system("tests")


@pytest.fixture
def psp_actor():
    return Actor.psp("sandbox")
