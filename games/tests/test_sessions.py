"""POST games/sessions/: a player starts a game; GET games/ lists them."""

from urllib.parse import parse_qs, urlsplit

import pytest

from core.actors import Actor
from core.api_keys import digest_of
from core.models import AuditEvent
from games import providers
from games.models import GameSession
from players.exclusions import exclude_self
from tenants.models import Tenant
from tenants.tests.factories import TenantFactory
from wallet.services import charge_back_deposit, request_withdrawal
from wallet.tests.api.helpers import client_for
from wallet.tests.factories import deposit_with

from .helpers import assert_problem

pytestmark = pytest.mark.django_db
SESSIONS = "/api/v1/games/sessions/"
OPS = Actor.system("tests")


def start(player, game_id, currency="EUR", **extra):
    return client_for(player).post(SESSIONS, {"game": game_id, "currency": currency}, format="json", **extra)


def test_a_player_starts_a_game(player, game, provider):
    response = start(player, game.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"session_token", "launch_url", "expires_at"}
    token = body["session_token"]
    assert token.startswith("gs_")
    # only the token's digest is kept
    session = GameSession.objects.get()
    assert session.token_digest == digest_of(token) and token not in session.token_digest
    assert (session.player_id, session.currency, session.game_id) == (player.pk, "EUR", game.pk)
    # the launch URL carries the token and where the game's server calls back
    url = urlsplit(body["launch_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "http://games.test/slot"
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert query == {
        "session_token": token,
        "api_base": f"http://testserver/api/v1/games/{game.account.slug}/",
        "currency": "EUR",
        "game": "slot",
    }
    # and the provider can use the token at once
    assert provider.balance(token).json()["balance"] == "0.00"


def test_a_launch_url_template_with_placeholders(player, account, settings):
    settings.GAME_API_BASE_URL = "https://wallet.example.com/"
    game = providers.create_game(
        account,
        code="reels",
        name="Reels",
        launch_url="https://studio.example/launch/{game}?token={session_token}&cb={api_base}&cur={currency}",
        actor=OPS,
    )
    body = start(player, game.pk).json()
    token = body["session_token"]
    base = f"https%3A%2F%2Fwallet.example.com%2Fapi%2Fv1%2Fgames%2F{account.slug}%2F"
    assert body["launch_url"] == f"https://studio.example/launch/reels?token={token}&cb={base}&cur=EUR"


def test_games_are_listed_for_the_players_casino_only(player, game):
    other = TenantFactory()
    theirs, _ = providers.create_provider_account(other, slug="theirs", name="Theirs", actor=OPS)
    providers.create_game(theirs, code="x", name="X", launch_url="http://x.test/", actor=OPS)
    listed = client_for(player).get("/api/v1/games/").json()
    assert listed == {"games": [{"id": game.pk, "code": "slot", "name": "Sandbox slot", "provider": game.account.slug}]}


def test_an_excluded_player_starts_no_game(player, game):
    exclude_self(player, kind="self_exclusion", days=180, actor=Actor.player(player.user))
    body = assert_problem(start(player, game.pk), 403, "PLAYER_EXCLUDED")
    assert body["kind"] == "self_exclusion" and body["ends_at"]
    assert not GameSession.objects.exists()
    assert AuditEvent.objects.filter(action="game_session.refused", target_id=str(player.pk)).exists()


def test_a_player_who_owes_after_a_chargeback_starts_no_game(player, game):
    disputed = deposit_with(player, 20_00)
    request_withdrawal(player=player, amount=20_00, currency="EUR", actor=Actor.player(player.user))
    charge_back_deposit(disputed, actor=Actor.psp("sandbox"), reason="Fraudulent transaction")
    deposit_with(player, 5_00)  # repays part: 15.00 still owed
    body = assert_problem(start(player, game.pk), 403, "PLAYER_ACCOUNT_RESTRICTED")
    assert body["receivables"] == [{"currency": "EUR", "amount": "15.00"}]
    assert not GameSession.objects.exists()
    refusal = AuditEvent.objects.get(action="game_session.refused", target_id=str(player.pk))
    assert refusal.data["error_code"] == "PLAYER_ACCOUNT_RESTRICTED"


def test_no_game_at_a_suspended_casino(player, game, tenant):
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.SUSPENDED)
    assert_problem(start(player, game.pk), 403, "TENANT_SUSPENDED")
    assert not GameSession.objects.exists()


@pytest.mark.parametrize("currency", ["GBP", "XXX"])
def test_no_game_in_a_currency_the_casino_does_not_take(player, game, currency):
    body = assert_problem(start(player, game.pk, currency), 400, "VALIDATION_ERROR")
    assert "currency" in body["errors"]
    assert not GameSession.objects.exists()


def test_another_casinos_game_or_a_deactivated_provider_is_not_found(player, game, account):
    other = TenantFactory()
    theirs, _ = providers.create_provider_account(other, slug="theirs", name="Theirs", actor=OPS)
    their_game = providers.create_game(theirs, code="x", name="X", launch_url="http://x.test/", actor=OPS)
    assert_problem(start(player, their_game.pk), 404, "NOT_FOUND")
    providers.deactivate_provider_account(account, actor=OPS)
    assert_problem(start(player, game.pk), 404, "NOT_FOUND")
    assert client_for(player).get("/api/v1/games/").json() == {"games": []}


def test_starting_needs_a_player(client, game, admin):
    assert_problem(
        client.post(SESSIONS, {"game": game.pk, "currency": "EUR"}, content_type="application/json"),
        401,
        "AUTHENTICATION_REQUIRED",
    )
    assert_problem(start(admin, game.pk), 401, "AUTHENTICATION_REQUIRED")  # an operator key opens no player API


def test_an_idempotency_key_makes_a_retry_return_the_same_session(player, game):
    first = start(player, game.pk, HTTP_IDEMPOTENCY_KEY="k-1")
    again = start(player, game.pk, HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.content == first.content
    assert GameSession.objects.count() == 1
