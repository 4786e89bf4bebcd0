"""Token authentication in one query: `Authorization: Token <key>`.

The base reads DRF's tokens; the player API (players.auth) adds the player page's session
tokens and the operator API (tenants.auth) has expiring operator tokens of its own.
"""

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
    and its tenant) by overriding `query` and `attach`, or read another token table with
    `authenticate_row`: a query whose columns are the token's, then the user's, then theirs.
    """

    query = (
        f"SELECT {sql.select_list(Token, 'k')}, {sql.select_list(User, 'u')} "
        "FROM authtoken_token k JOIN auth_user u ON u.id = k.user_id WHERE k.key = %s"
    )

    def authenticate_credentials(self, key):
        return self.authenticate_row(self.query, Token, [key])

    def authenticate_row(self, query: str, token_model, params: list):
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token = sql.instance_from(token_model, row)
        user = sql.instance_from(User, row, sql.width(token_model))
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        token.user = user
        self.check_token(token)
        self.attach(user, row, sql.width(token_model) + sql.width(User))
        return user, token

    def check_token(self, token) -> None:
        """Refuse a token found but no longer good (raise AuthenticationFailed)."""

    def attach(self, user, row, offset: int) -> None:
        """Set what the subclass's extra columns (from `offset` on) say about the user."""
