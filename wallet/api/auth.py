"""Player authentication and permission for the player API."""

from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework import exceptions, permissions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from tenants.models import Tenant
from wallet import sql
from wallet.models import Player

User = get_user_model()


class PlayerTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`; loads token, user, player and tenant in one query."""

    def authenticate_credentials(self, key):
        with connection.cursor() as cursor:
            cursor.execute(_TOKEN_QUERY, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token = sql.instance_from(Token, row)
        user = sql.instance_from(User, row, sql.width(Token))
        player = sql.instance_from(Player, row, sql.width(Token) + sql.width(User))
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if player is not None:
            player.tenant = sql.instance_from(Tenant, row, sql.width(Token) + sql.width(User) + sql.width(Player))
            player.user = user
        User.player.related.set_cached_value(user, player)  # None: known not to be a player
        token.user = user
        return user, token


_TOKEN_QUERY = (
    f"SELECT {sql.select_list(Token, 'k')}, {sql.select_list(User, 'u')}, {sql.select_list(Player, 'p')}, "
    f"{sql.select_list(Tenant, 't')} FROM authtoken_token k JOIN auth_user u ON u.id = k.user_id "
    "LEFT JOIN wallet_player p ON p.user_id = u.id LEFT JOIN tenants_tenant t ON t.id = p.tenant_id "
    "WHERE k.key = %s"
)


def player_of(request):
    """The authenticated user's Player, or None for users that are not players."""
    return getattr(request.user, "player", None) if request.user.is_authenticated else None


class IsPlayer(permissions.BasePermission):
    message = "This API is for players; operators use the operator API."

    def has_permission(self, request, view):
        return player_of(request) is not None
