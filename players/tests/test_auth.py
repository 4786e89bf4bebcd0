"""Player token authentication: the API token scripts use and the page's session token, one query each."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from rest_framework import exceptions
from rest_framework.authtoken.models import Token
from rest_framework.test import APIRequestFactory

from core.api_keys import digest_of, new_key
from players.auth import PlayerTokenAuthentication
from players.models import PlayerSessionToken
from players.session_tokens import SESSION_TOKEN_PREFIX
from players.tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def player():
    return PlayerFactory()


def session_token_of(user) -> str:
    """A page token of a fresh live session of `user` (what signing in on the page makes)."""
    session = SessionStore()
    session.create()
    key = new_key(SESSION_TOKEN_PREFIX)
    PlayerSessionToken.objects.create(digest=digest_of(key), user=user, session_id=session.session_key)
    return key


def authenticate(key: str):
    request = APIRequestFactory().get("/api/v1/wallet/", HTTP_AUTHORIZATION=f"Token {key}")
    return PlayerTokenAuthentication().authenticate(request)


@pytest.mark.parametrize("kind", ["api token", "session token"])
def test_either_token_loads_user_player_and_tenant_in_one_query(player, kind, django_assert_num_queries):
    key = Token.objects.create(user=player.user).key if kind == "api token" else session_token_of(player.user)
    with django_assert_num_queries(1):
        user, token = authenticate(key)
        # the player and its tenant came with the same query
        assert (user.pk, user.player.pk, user.player.tenant.slug) == (player.user.pk, player.pk, player.tenant.slug)
    assert token.user is user


def test_a_session_token_of_an_inactive_user_is_refused(player):
    key = session_token_of(player.user)
    player.user.is_active = False
    player.user.save(update_fields=["is_active"])
    with pytest.raises(exceptions.AuthenticationFailed):
        authenticate(key)


def test_a_deleted_session_takes_its_token_along(player):
    key = session_token_of(player.user)
    PlayerSessionToken.objects.get().session.delete()
    assert not PlayerSessionToken.objects.exists()
    with pytest.raises(exceptions.AuthenticationFailed):
        authenticate(key)


def test_the_session_tokens_digest_is_no_api_token(player):
    # a session token's stored digest, sent as a key, is just an unknown API token
    session_token_of(player.user)
    with pytest.raises(exceptions.AuthenticationFailed):
        authenticate(PlayerSessionToken.objects.get().digest)
