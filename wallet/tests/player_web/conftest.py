"""Fixtures of the player wallet page tests: a live server that is both the casino and its
sandbox PSP (payouts/tests/urls_product_and_psp.py), a player with a password, a browser."""

import pytest
import redis
from django.conf import settings as django_settings

from payouts.sandbox.models import SandboxMerchant
from payouts.tests.factories import ProviderAccountFactory
from players.tests.factories import PlayerFactory
from tenants.tests.factories import CurrencyLimitFactory, TenantFactory
from wallet.tests.browser import chromium
from wallet.tests.factories import fund

PASSWORD = "correct-horse-battery"
WEBHOOKS = "/api/v1/webhooks/psp/sandbox/"


@pytest.fixture
def casino(live_server, settings):
    """A casino whose PSP account speaks HTTP to the sandbox on the live server."""
    settings.ROOT_URLCONF = "payouts.tests.urls_product_and_psp"
    settings.API_PLAYER_RATE = "100000/min"
    settings.OPERATOR_2FA_REQUIRED = False
    tenant = TenantFactory(allowed_currencies=["EUR", "USD"])
    CurrencyLimitFactory(policy=tenant.policy, currency="EUR", daily_withdraw_limit=50_00, min_amount=1_00)
    account = ProviderAccountFactory(tenant=tenant, base_url=live_server.url)
    SandboxMerchant.objects.filter(merchant_id=account.merchant_id).update(webhook_url=live_server.url + WEBHOOKS)
    return tenant


@pytest.fixture
def player(casino):
    player = PlayerFactory(tenant=casino)
    fund(player, 200_00, "EUR")
    return player


@pytest.fixture(autouse=True)
def _own_throttle_keys():
    yield
    prefix = django_settings.CACHES["default"].get("KEY_PREFIX", "")
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*throttle*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="module")
def player_browser(django_db_setup):
    with chromium() as browser:
        yield browser


@pytest.fixture
def wallet_page(player_browser, live_server, player):
    """The wallet page, signed in as `player`, with balances loaded, in a fresh browser context."""
    context = player_browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/play/login/")
    page.fill("input[name=username]", player.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#balance-rows tr[data-currency=EUR]")
    yield page
    context.close()
