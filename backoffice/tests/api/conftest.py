"""Fixtures of the operator API tests: a casino and its player (staff fixtures: the root conftest).

Tenants here have no PSP account unless a test gives them one (ProviderAccountFactory),
so an approval's queued payout dispatch is a no-op. The throttle cleanup of the
player API tests is reused: it deletes only this run's throttle keys, never flushes.
"""

import pytest

from players.tests.factories import PlayerFactory
from tenants.tests.factories import TenantFactory
from wallet.tests.api.conftest import _fresh_throttle_history  # noqa: F401 - autouse fixture


@pytest.fixture
def tenant():
    return TenantFactory(allowed_currencies=["EUR", "USD", "JPY"])


@pytest.fixture
def player(tenant):
    return PlayerFactory(tenant=tenant)
