"""Fixtures of the console tests: a casino, its staff by role, another casino, a superuser.

Tenants have no PSP account, so an approval's queued payout dispatch is a no-op and a
withdrawal stays `approved` until an operator marks it paid. Console sessions here are
fully signed in (password and a confirmed TOTP device), so the tests run with the
production default OPERATOR_2FA_REQUIRED = True unless a test says otherwise.
"""

import pytest

from players.tests.factories import PlayerFactory
from tenants.tests.factories import TenantFactory

from .helpers import sign_in


@pytest.fixture(autouse=True)
def _second_factor_required(settings):
    settings.OPERATOR_2FA_REQUIRED = True


@pytest.fixture
def tenant():
    return TenantFactory(allowed_currencies=["EUR", "USD"])


@pytest.fixture
def player(tenant):
    return PlayerFactory(tenant=tenant)


@pytest.fixture
def foreign_player(other_tenant):
    return PlayerFactory(tenant=other_tenant)


@pytest.fixture
def console():
    """console(user) -> a test Client signed in to the console (password and second factor)."""
    return sign_in
