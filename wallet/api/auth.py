"""Player authentication, permission and throttling for the player API."""

from django.conf import settings
from rest_framework import exceptions, permissions, throttling
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


class PlayerTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`; loads user, player and tenant in one query."""

    def authenticate_credentials(self, key):
        try:
            token = Token.objects.select_related("user__player__tenant").get(key=key)
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token


def player_of(request):
    """The authenticated user's Player, or None for users that are not players."""
    return getattr(request.user, "player", None) if request.user.is_authenticated else None


class IsPlayer(permissions.BasePermission):
    message = "This API is for players; operators use the operator API."

    def has_permission(self, request, view):
        return player_of(request) is not None


class PlayerRateThrottle(throttling.SimpleRateThrottle):
    """Requests per player (not per IP): one busy client cannot starve the others."""

    scope = "player"

    def get_rate(self):
        return settings.API_PLAYER_RATE

    def get_cache_key(self, request, view):
        if not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
