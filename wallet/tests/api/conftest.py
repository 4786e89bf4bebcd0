"""Fixtures for the player API tests: tenants, players with tokens, clients, a clean throttle.

The throttle history lives in the real Redis under CACHE_KEY_PREFIX. Django's
RedisCache.clear() runs FLUSHDB, which would wipe every key in the shared database
(other engineers' caches, the Celery broker), so only keys under this run's prefix that
belong to the throttle are deleted.
"""

import pytest
import redis
from django.conf import settings

from payouts.tests.factories import ProviderAccountFactory
from players.tests.factories import PlayerFactory
from tenants.tests.factories import TenantFactory

from .helpers import client_for


def _delete_throttle_keys() -> None:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    pattern = f"{prefix}:*throttle*"  # DRF's cache throttles and a direct Redis counter alike
    for url in {settings.CACHES["default"]["LOCATION"], getattr(settings, "REDIS_URL", None)} - {None}:
        client = redis.Redis.from_url(url)
        try:
            keys = list(client.scan_iter(match=pattern, count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


def pytest_collection_modifyitems(items):
    """WhiteNoise warns at every client's first request that STATIC_ROOT was never collected."""
    here = str(__file__).rsplit("/", 1)[0]
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.filterwarnings("ignore:No directory at:UserWarning"))


@pytest.fixture(autouse=True)
def _fresh_throttle_history():
    """Every test starts with no request history, whatever earlier runs left in Redis."""
    _delete_throttle_keys()
    yield
    _delete_throttle_keys()


@pytest.fixture
def tenant():
    """A casino with an account at the in-process sandbox PSP, so deposits open a checkout."""
    tenant = TenantFactory(allowed_currencies=["EUR", "USD", "JPY"])
    ProviderAccountFactory(tenant=tenant)
    return tenant


@pytest.fixture
def player(tenant):
    return PlayerFactory(tenant=tenant)


@pytest.fixture
def api(player):
    """An APIClient authenticated as `player` with its token."""
    return client_for(player)


@pytest.fixture
def other_player(tenant):
    """A second player of the same casino."""
    return PlayerFactory(tenant=tenant)


@pytest.fixture
def foreign_player():
    """A player of another casino."""
    foreign = TenantFactory(allowed_currencies=["EUR", "USD"])
    ProviderAccountFactory(tenant=foreign)
    return PlayerFactory(tenant=foreign)
