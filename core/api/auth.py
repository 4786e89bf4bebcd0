"""Token authentication in one query: `Authorization: Token <key>` for players and operators alike."""

from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication as DRFTokenAuthentication
from rest_framework.authtoken.models import Token

from core import sql

User = get_user_model()


class TokenAuthentication(DRFTokenAuthentication):
    """DRF's token authentication, with the token and its user read in one round trip.

    Subclasses may join more rows to the same query (the player API joins the player
    and its tenant) by overriding `query` and `attach`.
    """

    query = (
        f"SELECT {sql.select_list(Token, 'k')}, {sql.select_list(User, 'u')} "
        "FROM authtoken_token k JOIN auth_user u ON u.id = k.user_id WHERE k.key = %s"
    )

    def authenticate_credentials(self, key):
        with connection.cursor() as cursor:
            cursor.execute(self.query, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token = sql.instance_from(Token, row)
        user = sql.instance_from(User, row, sql.width(Token))
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        token.user = user
        self.attach(user, row, sql.width(Token) + sql.width(User))
        return user, token

    def attach(self, user, row, offset: int) -> None:
        """Set what the subclass's extra columns (from `offset` on) say about the user."""
