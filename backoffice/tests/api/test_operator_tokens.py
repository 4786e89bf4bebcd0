"""The operator API takes operators' expiring API tokens: a revoked or expired one is 401 and moves nothing."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.actors import Actor
from core.api_keys import digest_of, new_key
from players.models import PlayerSessionToken
from players.session_tokens import SESSION_TOKEN_PREFIX
from tenants.models import OperatorToken
from tenants.operator_tokens import create_operator_token, revoke_operator_token
from tenants.tests.factories import operator_api_key
from wallet.tests.api.helpers import WALLET, assert_problem
from wallet.tests.builders import withdrawal_in_state
from wallet.tests.invariants import expect_no_change

from .helpers import QUEUE, decide, state_of

pytestmark = pytest.mark.django_db


def with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def requested(player):
    return withdrawal_in_state("requested", player=player)


def test_a_token_made_for_an_operator_opens_the_operator_api_and_shows_its_last_use(finance, requested):
    _token, key = create_operator_token(user=finance, name="queue script", actor=Actor.operator(finance))
    response = with_key(key).get(QUEUE)
    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [str(requested.pk)]
    assert OperatorToken.objects.get().last_used_at is not None


def test_a_revoked_token_is_401_and_moves_nothing(finance, requested):
    # given an operator's token that worked
    token, key = create_operator_token(user=finance, name="approvals", actor=Actor.operator(finance))
    client = with_key(key)
    assert client.get(QUEUE).status_code == 200
    # when the operator revokes it
    revoke_operator_token(user=finance, token_id=token.pk, actor=Actor.operator(finance))
    # then a read and a decision with it are 401 AUTHENTICATION_REQUIRED, and the withdrawal stays requested
    with expect_no_change():
        assert_problem(client.get(QUEUE), 401, "AUTHENTICATION_REQUIRED")
        assert_problem(decide(client, requested.pk, "approve"), 401, "AUTHENTICATION_REQUIRED")
    assert state_of(requested) == "requested"


def test_an_expired_token_is_401_and_moves_nothing(finance, requested):
    key = operator_api_key(finance, expires_in=timedelta(seconds=-1))
    client = with_key(key)
    with expect_no_change():
        body = assert_problem(client.get(QUEUE), 401, "AUTHENTICATION_REQUIRED")
        assert_problem(decide(client, requested.pk, "approve"), 401, "AUTHENTICATION_REQUIRED")
    assert "expired" in body["detail"]
    assert state_of(requested) == "requested"


def test_a_token_expires_when_its_time_is_up(finance, requested):
    key = operator_api_key(finance)
    client = with_key(key)
    assert client.get(QUEUE).status_code == 200
    OperatorToken.objects.update(expires_at=OperatorToken.objects.get().created_at)  # its day has come
    assert_problem(client.get(QUEUE), 401, "AUTHENTICATION_REQUIRED")


def test_an_operators_old_drf_token_no_longer_opens_the_operator_api(finance, requested):
    client = with_key(Token.objects.create(user=finance).key)
    with expect_no_change():
        assert_problem(client.get(QUEUE), 401, "AUTHENTICATION_REQUIRED")
        assert_problem(decide(client, requested.pk, "approve"), 401, "AUTHENTICATION_REQUIRED")


def test_a_player_page_session_token_is_no_operator_token(player):
    session = SessionStore()
    session.create()
    key = new_key(SESSION_TOKEN_PREFIX)
    PlayerSessionToken.objects.create(digest=digest_of(key), user=player.user, session_id=session.session_key)
    assert with_key(key).get(WALLET).status_code == 200
    assert_problem(with_key(key).get(QUEUE), 401, "AUTHENTICATION_REQUIRED")


def test_an_operator_token_opens_nothing_in_the_player_api(finance):
    assert_problem(with_key(operator_api_key(finance)).get(WALLET), 401, "AUTHENTICATION_REQUIRED")


def test_a_token_of_someone_no_longer_an_operator_is_refused(finance):
    key = operator_api_key(finance)
    finance.operator_membership.delete()
    assert_problem(with_key(key).get(QUEUE), 403, "PERMISSION_DENIED")


def test_the_api_schema_is_served_whatever_token_comes_along(finance, player):
    # clients (schemathesis among them) fetch the schema with the header they use for the API
    for key in (operator_api_key(finance), Token.objects.create(user=player.user).key, "not-a-token"):
        assert with_key(key).get("/api/v1/schema/").status_code == 200, key
    assert APIClient().get("/api/v1/schema/").status_code == 200
