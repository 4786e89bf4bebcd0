"""The operator API's token authentication: an operator's expiring API token (tenants.OperatorToken).

Only these keys open the operator API (with a console session, tenants.access): not the
players' API tokens, not the player page's session tokens, not an operator's old DRF token.
A revoked token no longer exists and an expired one is refused: 401 AUTHENTICATION_REQUIRED.
"""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions

from core import sql
from core.api.auth import TokenAuthentication, User
from core.api_keys import digest_of
from tenants.models import OperatorToken
from tenants.operator_tokens import is_operator_token

# "Last used" is kept to the minute: one write a minute per busy token, not one per request.
LAST_USED_PRECISION = timedelta(minutes=1)


class OperatorTokenAuthentication(TokenAuthentication):
    """`Authorization: Token op_…`: the token and its user in one query; its last use noted once a minute."""

    query = (
        f"SELECT {sql.select_list(OperatorToken, 'k')}, {sql.select_list(User, 'u')} "
        f"FROM {OperatorToken._meta.db_table} k JOIN auth_user u ON u.id = k.user_id WHERE k.digest = %s"
    )

    def authenticate_credentials(self, key):
        if not is_operator_token(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        user, token = self.authenticate_row(self.query, OperatorToken, [digest_of(key)])
        now = timezone.now()
        if token.last_used_at is None or token.last_used_at <= now - LAST_USED_PRECISION:
            OperatorToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return user, token

    def check_token(self, token) -> None:
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("This API token has expired; make a new one in the console.")


class OperatorTokenScheme(OpenApiAuthenticationExtension):
    """The operator API's scheme in the OpenAPI schema, named apart from the player API's."""

    target_class = OperatorTokenAuthentication
    name = "operatorToken"

    def get_security_definition(self, auto_schema):
        return {
            **build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token"),  # noqa: S106
            "description": "`Token op_…`: an operator's API token, made on the console's API tokens page "
            "(seed_demo --json prints demo ones). It expires; a revoked or expired one is 401.",
        }
