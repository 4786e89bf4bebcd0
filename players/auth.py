"""Player authentication and permission for the player-facing API."""

from rest_framework import permissions
from rest_framework.authtoken.models import Token

from core import sql
from core.api.auth import TokenAuthentication, User
from players.models import Player
from tenants.models import Tenant


class PlayerTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`; loads token, user, player and tenant in one query."""

    query = (
        f"SELECT {sql.select_list(Token, 'k')}, {sql.select_list(User, 'u')}, {sql.select_list(Player, 'p')}, "
        f"{sql.select_list(Tenant, 't')} FROM authtoken_token k JOIN auth_user u ON u.id = k.user_id "
        f"LEFT JOIN {Player._meta.db_table} p ON p.user_id = u.id LEFT JOIN tenants_tenant t ON t.id = p.tenant_id "
        "WHERE k.key = %s"
    )

    def attach(self, user, row, offset: int) -> None:
        player = sql.instance_from(Player, row, offset)
        if player is not None:
            player.tenant = sql.instance_from(Tenant, row, offset + sql.width(Player))
            player.user = user
        User.player.related.set_cached_value(user, player)  # None: known not to be a player


def player_of(request):
    """The authenticated user's Player, or None for users that are not players."""
    return getattr(request.user, "player", None) if request.user.is_authenticated else None


class IsPlayer(permissions.BasePermission):
    message = "This API is for players; operators use the operator API."

    def has_permission(self, request, view):
        return player_of(request) is not None
