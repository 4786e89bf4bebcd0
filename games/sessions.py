"""A player starts a game: a session token for the provider, and the URL that opens the game.

`start_session` refuses (nothing stored) when the game is unknown to the player's casino or
its provider account is deactivated (404 NOT_FOUND), the casino is suspended (403
TENANT_SUSPENDED), the currency is not one of the casino's (400 VALIDATION_ERROR), or the
player is excluded (403 PLAYER_EXCLUDED, audited) or owes the casino after a chargeback (403
PLAYER_ACCOUNT_RESTRICTED, audited). The token (`gs_…`) is returned once; only
its SHA-256 is stored. Bets need the session unexpired (GAME_SESSION_SECONDS after its
start); wins and rollbacks land at any time.

The launch URL is the game's template with {session_token}, {api_base}, {currency}, {game}
(the game's code) and {provider} (the account's slug) replaced by their URL-encoded values;
a template without {session_token} gets `session_token`, `api_base`, `currency` and `game`
appended as query parameters. `api_base` is the game wallet API of the game's provider
account, e.g. http://127.0.0.1:8000/api/v1/games/aurora-slots/, to which the game's server
appends balance/, bet/, win/ and rollback/.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.actors import Actor
from core.api_keys import digest_of, new_key
from core.audit import record_in_own_transaction
from core.errors import NotFound
from games.models import Game, GameSession
from players.errors import PlayerExcluded
from players.models import Player
from wallet import protection
from wallet.errors import PlayerAccountRestricted
from wallet.services.common import ensure_currency_allowed, ensure_tenant_active

TOKEN_PREFIX = "gs_"  # noqa: S105 - what a session token starts with, not a secret
PLACEHOLDERS = ("session_token", "api_base", "currency", "game", "provider")


@dataclass(frozen=True)
class StartedSession:
    session: GameSession
    token: str
    launch_url: str

    @property
    def expires_at(self) -> datetime:
        return self.session.expires_at


def api_path(slug: str) -> str:
    return f"/api/v1/games/{slug}/"


def start_session(*, player: Player, game_id, currency: str, actor: Actor, api_origin: str) -> StartedSession:
    """Open a session of `player` in game `game_id` (a game of the player's casino) and `currency`.

    `api_origin` is where the player's request came (scheme and host); GAME_API_BASE_URL,
    when set, is used instead, for a game server that reaches the API by another address.
    """
    game = (
        Game.objects.select_related("account")
        .filter(pk=game_id, tenant_id=player.tenant_id, is_active=True, account__is_active=True)
        .first()
    )
    if game is None:
        raise NotFound("No such game at this casino.")
    ensure_tenant_active(player.tenant)
    ensure_currency_allowed(player.tenant, currency)
    try:
        protection.ensure_not_excluded(player, timezone.now())
        protection.ensure_not_restricted(player)
    except (PlayerExcluded, PlayerAccountRestricted) as refusal:
        record_in_own_transaction(
            tenant=player.tenant_id,
            actor=actor,
            action="game_session.refused",
            target=player,
            reason=refusal.detail,
            data={"error_code": refusal.error_code, **refusal.problem_fields(), "game": game.pk},
        )
        raise
    token = new_key(TOKEN_PREFIX)
    with transaction.atomic():
        session = GameSession.objects.create(
            token_digest=digest_of(token),
            account_id=game.account_id,
            tenant_id=player.tenant_id,
            player=player,
            game=game,
            currency=currency,
            expires_at=timezone.now() + timedelta(seconds=settings.GAME_SESSION_SECONDS),
        )
    base = (settings.GAME_API_BASE_URL or api_origin).rstrip("/") + api_path(game.account.slug)
    return StartedSession(session=session, token=token, launch_url=launch_url(game, token, currency, base))


def launch_url(game: Game, token: str, currency: str, api_base: str) -> str:
    values = {
        "session_token": token,
        "api_base": api_base,
        "currency": currency,
        "game": game.code,
        "provider": game.account.slug,
    }
    url = game.launch_url
    for name in PLACEHOLDERS:
        url = url.replace("{" + name + "}", quote(values[name], safe=""))
    if "{session_token}" in game.launch_url:
        return url
    query = urlencode({name: values[name] for name in ("session_token", "api_base", "currency", "game")})
    return f"{url}{'&' if '?' in url else '?'}{query}"
