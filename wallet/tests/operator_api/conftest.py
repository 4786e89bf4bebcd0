"""Fixtures of the operator API tests: a casino, its staff by role, a platform superuser.

Tenants here have no PSP account unless a test gives them one (ProviderAccountFactory),
so an approval's queued payout dispatch is a no-op. The throttle cleanup of the
player API tests is reused: it deletes only this run's throttle keys, never flushes.
"""

import pytest

from tenants.tests.factories import TenantFactory
from wallet.tests.api.conftest import _fresh_throttle_history  # noqa: F401 - autouse fixture
from wallet.tests.factories import PlayerFactory

from .helpers import ADMIN, FINANCE, VIEWER, operator_user, platform_superuser


@pytest.fixture
def tenant():
    return TenantFactory(allowed_currencies=["EUR", "USD", "JPY"])


@pytest.fixture
def other_tenant():
    return TenantFactory(allowed_currencies=["EUR", "USD"])


@pytest.fixture
def player(tenant):
    return PlayerFactory(tenant=tenant)


@pytest.fixture
def viewer(tenant):
    return operator_user(tenant, VIEWER)


@pytest.fixture
def finance(tenant):
    return operator_user(tenant, FINANCE)


@pytest.fixture
def finance2(tenant):
    """A second finance operator of the same casino (four eyes)."""
    return operator_user(tenant, FINANCE)


@pytest.fixture
def admin(tenant):
    return operator_user(tenant, ADMIN)


@pytest.fixture
def superuser():
    return platform_superuser()


@pytest.fixture
def staff(viewer, finance, admin):
    """The casino's operators by role."""
    return {VIEWER: viewer, FINANCE: finance, ADMIN: admin}
