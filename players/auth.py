"""Player authentication and permission for the player-facing API."""

from django.contrib.sessions.models import Session
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import permissions
from rest_framework.authtoken.models import Token

from core import sql
from core.api.auth import TokenAuthentication, User
from core.api_keys import digest_of
from players.models import Player, PlayerSessionToken
from players.session_tokens import is_session_token
from tenants.models import Tenant


def _player_query(token_model, source: str, where: str) -> str:
    """The token's columns, then its user's, player's and tenant's (NULL for a user who is no player)."""
    return (
        f"SELECT {sql.select_list(token_model, 'k')}, {sql.select_list(User, 'u')}, "
        f"{sql.select_list(Player, 'p')}, {sql.select_list(Tenant, 't')} "
        f"FROM {source} JOIN auth_user u ON u.id = k.user_id "
        f"LEFT JOIN {Player._meta.db_table} p ON p.user_id = u.id LEFT JOIN tenants_tenant t ON t.id = p.tenant_id "
        f"WHERE {where}"
    )


class PlayerTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`: token, user, player and tenant in one query.

    Two kinds of key: the player's API token (DRF's, for scripts and casino back ends)
    and the player page's session token (`ps_…`, players.session_tokens), valid only
    while its browser session is: the join on the session row is its expiry check.
    """

    query = _player_query(Token, "authtoken_token k", "k.key = %s")
    session_query = _player_query(
        PlayerSessionToken,
        f"{PlayerSessionToken._meta.db_table} k "
        f"JOIN {Session._meta.db_table} s ON s.session_key = k.session_id AND s.expire_date > now()",
        "k.digest = %s",
    )

    def authenticate_credentials(self, key):
        if is_session_token(key):
            return self.authenticate_row(self.session_query, PlayerSessionToken, [digest_of(key)])
        return super().authenticate_credentials(key)

    def attach(self, user, row, offset: int) -> None:
        player = sql.instance_from(Player, row, offset)
        if player is not None:
            player.tenant = sql.instance_from(Tenant, row, offset + sql.width(Player))
            player.user = user
        User.player.related.set_cached_value(user, player)  # None: known not to be a player


class PlayerTokenScheme(OpenApiAuthenticationExtension):
    """The player API's scheme in the OpenAPI schema, named apart from the operator API's."""

    target_class = PlayerTokenAuthentication
    name = "playerToken"

    def get_security_definition(self, auto_schema):
        return {
            **build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token"),  # noqa: S106
            "description": "`Token <key>`: the player's API token (seed_demo --json prints demo ones) "
            "or the player page's session token.",
        }


def player_of(request):
    """The authenticated user's Player, or None for users that are not players."""
    return getattr(request.user, "player", None) if request.user.is_authenticated else None


class IsPlayer(permissions.BasePermission):
    message = "This API is for players; operators use the operator API."

    def has_permission(self, request, view):
        return player_of(request) is not None
