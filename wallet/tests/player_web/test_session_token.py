"""The player page's API token is bound to its browser session: issued at sign-in, gone at sign-out.

These drive the page through Django's test client (the browser tests in this package do
the rest): sign in, read the token the page hands its script, call the API with it.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from players.models import PlayerSessionToken
from players.tasks import clear_expired_sessions
from players.tests.factories import PlayerFactory
from tenants.tests.factories import TenantFactory
from wallet.models import Withdrawal
from wallet.tests.api.helpers import WALLET, WITHDRAWALS, assert_problem, post_money
from wallet.tests.factories import fund

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tenants.tests.factories.UserFactory
LOGIN, LOGOUT, PAGE = "/play/login/", "/play/logout/", "/play/"


@pytest.fixture
def mia():
    player = PlayerFactory(tenant=TenantFactory(allowed_currencies=["EUR"]))
    fund(player, 100_00, "EUR")
    return player


def sign_in(player) -> Client:
    browser = Client()
    response = browser.post(LOGIN, {"username": player.user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return browser


def page_token(browser: Client) -> str:
    response = browser.get(PAGE)
    assert response.status_code == 200
    return re.search(r'data-token="([^"]+)"', response.content.decode()).group(1)


def api(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {token}")


def test_signing_in_issues_a_session_token_not_the_players_api_token(mia):
    # when the player signs in on the page
    browser = sign_in(mia)
    token = page_token(browser)
    # then the page's script gets a token of this session, and the long-lived API token is neither used nor made
    assert token.startswith("ps_")
    assert not Token.objects.filter(user=mia.user).exists()
    stored = PlayerSessionToken.objects.get(user=mia.user)
    assert stored.session_id == browser.session.session_key
    assert token not in {stored.digest, stored.session_id}  # only its digest is kept
    # and the API answers the page with it
    response = api(token).get(WALLET)
    assert response.status_code == 200, response.content
    assert [(w["currency"], w["available"]) for w in response.json()["wallets"]] == [("EUR", "100.00")]


def test_the_page_reuses_its_sessions_token_on_every_load(mia):
    browser = sign_in(mia)
    assert page_token(browser) == page_token(browser)
    assert PlayerSessionToken.objects.filter(user=mia.user).count() == 1


def test_after_sign_out_the_token_gets_401_and_moves_nothing(mia):
    # given a signed-in page and its token
    browser = sign_in(mia)
    token = page_token(browser)
    assert api(token).get(WALLET).status_code == 200
    # when the player signs out
    response = browser.post(LOGOUT)
    assert response.status_code == 302
    # then the token is deleted, and the API refuses it: no read, no withdrawal
    assert not PlayerSessionToken.objects.exists()
    assert_problem(api(token).get(WALLET), 401, "AUTHENTICATION_REQUIRED")
    refused = post_money(api(token), WITHDRAWALS, {"amount": "10.00", "currency": "EUR"})
    assert_problem(refused, 401, "AUTHENTICATION_REQUIRED")
    assert not Withdrawal.objects.filter(player=mia).exists()


def test_signing_out_one_browser_leaves_the_others_token_working(mia):
    phone, laptop = sign_in(mia), sign_in(mia)
    phone_token, laptop_token = page_token(phone), page_token(laptop)
    assert phone_token != laptop_token
    phone.post(LOGOUT)
    assert_problem(api(phone_token).get(WALLET), 401, "AUTHENTICATION_REQUIRED")
    assert api(laptop_token).get(WALLET).status_code == 200


def test_when_the_session_expires_its_token_gets_401(mia):
    # given a page token whose session has gone idle past its expiry (not yet cleared away)
    browser = sign_in(mia)
    token = page_token(browser)
    Session.objects.filter(pk=browser.session.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    # then the API refuses the token at once
    assert_problem(api(token).get(WALLET), 401, "AUTHENTICATION_REQUIRED")


def test_clearing_expired_sessions_deletes_their_tokens(mia):
    # given one expired and one live signed-in session
    expired, live = sign_in(mia), sign_in(mia)
    page_token(expired)
    live_token = page_token(live)
    Session.objects.filter(pk=expired.session.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    # when the hourly housekeeping runs
    assert clear_expired_sessions() == 1
    # then the expired session's token row is gone with it, and the live one still works
    assert list(PlayerSessionToken.objects.values_list("session_id", flat=True)) == [live.session.session_key]
    assert api(live_token).get(WALLET).status_code == 200


def test_a_token_from_a_tampered_session_is_refused(mia):
    # the page's token is only ever a server-issued key: another string with the prefix is unknown
    browser = sign_in(mia)
    token = page_token(browser)
    assert_problem(api(token[:-1] + ("A" if token[-1] != "A" else "B")).get(WALLET), 401, "AUTHENTICATION_REQUIRED")
    assert_problem(api("ps_").get(WALLET), 401, "AUTHENTICATION_REQUIRED")


def test_the_player_pages_are_never_kept_in_the_browsers_cache(mia):
    browser = Client()
    responses = [browser.get(LOGIN)]
    responses.append(browser.post(LOGIN, {"username": mia.user.username, "password": PASSWORD}))
    responses.append(browser.get(PAGE))
    responses.append(browser.post(LOGOUT))
    responses.append(browser.get(PAGE))  # signed out: the redirect to the sign-in page
    for response in responses:
        assert "no-store" in response["Cache-Control"], (response.request["PATH_INFO"], response["Cache-Control"])
