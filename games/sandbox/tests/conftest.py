"""Fixtures of the sandbox game's tests: a fake game wallet on a free port and a game that calls it.

These tests exercise the game as the outside party it is (its own SQLite file under a
temporary directory, HTTP to the wallet); they touch no product table.
"""

import base64
import secrets

import pytest

from games.sandbox.providers import Provider, api_url_for
from games.sandbox.server import build_game

from .fake_wallet import FakeWallet, FakeWalletServer

SLUG = "sandbox-test"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@pytest.fixture
def secret() -> str:
    return new_secret()


@pytest.fixture
def wallet(secret):
    return FakeWallet(slug=SLUG, secret=secret)


@pytest.fixture
def wallet_server(wallet):
    with FakeWalletServer(wallet) as server:
        yield server


@pytest.fixture
def session(wallet) -> str:
    """A game session of a player with 100.00 EUR."""
    return wallet.open_session("gs_" + secrets.token_urlsafe(16), 100_00, "EUR")


def make_game(directory, origin: str, secret: str, **options):
    options = {"seed": "test-seed", "timeout": 0.25, "attempts": 3, "backoff": (0.01,), **options}
    provider = Provider(SLUG, secret, api_url_for(SLUG, origin))
    return build_game(directory=directory, providers={SLUG: provider}, **options)


@pytest.fixture
def game(tmp_path, wallet_server, secret):
    return make_game(tmp_path, wallet_server.origin, secret)
