"""Fixtures of the PSP tests: a casino at the sandbox PSP, its player, a webhook client.

Tasks run inline (the root conftest makes Celery eager) unless a test asks for
`celery_worker` (payouts/tests/worker.py), which starts a real worker on Redis.
"""

import pytest
import redis
from django.conf import settings
from django.test import Client

from payouts.tests.factories import ProviderAccountFactory
from payouts.tests.worker import celery_worker, celery_worker_process  # noqa: F401 - fixtures
from players.tests.factories import PlayerFactory
from tenants.tests.factories import TenantFactory

from .helpers import merchant_of

LIVE_WEBHOOK_PATH = "/api/v1/webhooks/psp/sandbox/"


@pytest.fixture
def account():
    """A casino's account at the in-process sandbox PSP (and the sandbox's merchant record)."""
    return ProviderAccountFactory(tenant=TenantFactory(allowed_currencies=["EUR", "USD"]))


@pytest.fixture
def tenant(account):
    return account.tenant


@pytest.fixture
def merchant(account):
    return merchant_of(account)


@pytest.fixture
def secret(account) -> str:
    """The merchant's signing secret, which is the account's active webhook secret."""
    return account.webhook_secrets[0]


@pytest.fixture
def player(tenant):
    return PlayerFactory(tenant=tenant)


@pytest.fixture
def other_player(tenant):
    """A second player of the same casino."""
    return PlayerFactory(tenant=tenant)


@pytest.fixture
def web():
    """An anonymous client: the PSP has no token, its signature is its authentication."""
    return Client()


@pytest.fixture
def live_webhooks(live_server, merchant):
    """The sandbox merchant sends its webhooks to the product served by the live server."""
    merchant.webhook_url = live_server.url + LIVE_WEBHOOK_PATH
    merchant.save(update_fields=["webhook_url"])
    return merchant


def _delete_own_throttle_keys() -> None:
    """Player API calls leave throttle counters under this run's cache prefix; delete only those."""
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*throttle*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def clean_throttle():
    _delete_own_throttle_keys()
    yield
    _delete_own_throttle_keys()


@pytest.fixture
def sandbox_service(live_server, settings, account):
    """The sandbox PSP served over HTTP (its own URLconf, as `run_sandbox_psp` serves it), and the
    casino's account pointing at it: the adapter now speaks HTTP instead of calling the engine."""
    settings.ROOT_URLCONF = "payouts.sandbox.urls"
    account.base_url = live_server.url
    account.save(update_fields=["base_url"])
    return live_server.url
