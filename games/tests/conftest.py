"""A casino with a game provider account, a game, a funded player in a session, and a provider client."""

import pytest

from core.actors import Actor
from games import providers
from games.sessions import start_session
from players.tests.factories import PlayerFactory
from tenants.tests.factories import TenantFactory
from wallet.tests.factories import fund

from .helpers import ProviderClient

OPS = Actor.system("tests")


@pytest.fixture(autouse=True)
def _fresh_provider_cache():
    """Accounts are cached per process by slug; each test's rows roll back, so each test starts cold."""
    providers.forget()
    yield
    providers.forget()


@pytest.fixture
def tenant():
    return TenantFactory(allowed_currencies=["EUR", "USD"])


@pytest.fixture
def account_and_secret(tenant):
    return providers.create_provider_account(tenant, slug=f"slots-{tenant.slug}", name="Acme Slots", actor=OPS)


@pytest.fixture
def account(account_and_secret):
    return account_and_secret[0]


@pytest.fixture
def game(account):
    return providers.create_game(
        account, code="slot", name="Sandbox slot", launch_url="http://games.test/slot", actor=OPS
    )


@pytest.fixture
def player(tenant):
    return PlayerFactory(tenant=tenant)


@pytest.fixture
def wallet(player):
    return fund(player, 100_00)


def new_session(player, game, currency: str = "EUR"):
    return start_session(
        player=player,
        game_id=game.pk,
        currency=currency,
        actor=Actor.player(player.user),
        api_origin="http://testserver/",
    )


@pytest.fixture
def session(player, game, wallet):
    return new_session(player, game)


@pytest.fixture
def token(session):
    return session.token


@pytest.fixture
def provider(client, account_and_secret):
    account, secret = account_and_secret
    return ProviderClient(client, account.slug, secret)
