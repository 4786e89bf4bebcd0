"""Every error is problem+json with a stable error_code; refused money requests move nothing."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import middleware
from core.models import AuditEvent, IdempotencyRecord
from tenants.tests.factories import OperatorFactory
from wallet import selectors
from wallet.models import Deposit, Withdrawal
from wallet.tests.builders import set_limits, withdrawal_in_state
from wallet.tests.factories import fund
from wallet.tests.invariants import expect_no_change

from .helpers import (
    DEPOSITS,
    TRANSACTIONS,
    WALLET,
    WITHDRAWALS,
    assert_problem,
    balances,
    cancel_request,
    cancel_url,
    client_for,
    deposit_request,
    deposit_url,
    receipt_url,
    withdrawal_request,
)

pytestmark = pytest.mark.django_db

UNKNOWN_ID = "7d0e2f8a-1111-4c4c-9c9c-000000000000"


# 401 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Token not-a-real-token", "Token", "Token one two", "Bearer abc", "Basic dXNlcjpwYXNz"],
    ids=["none", "unknown-token", "no-key", "two-keys", "bearer", "basic"],
)
def test_requests_without_a_valid_token_are_unauthenticated(client, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get(WALLET, **headers)
    assert_problem(response, 401, "AUTHENTICATION_REQUIRED")
    assert response["WWW-Authenticate"].startswith("Token")


def test_a_money_request_without_a_token_creates_nothing(client):
    with expect_no_change():
        response = client.post(
            DEPOSITS, {"amount": "5.00", "currency": "EUR"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
        )
    assert_problem(response, 401, "AUTHENTICATION_REQUIRED")
    assert not IdempotencyRecord.objects.exists()


def test_a_deactivated_players_token_no_longer_works(api, player):
    get_user_model().objects.filter(pk=player.user_id).update(is_active=False)
    assert_problem(api.get(WALLET), 401, "AUTHENTICATION_REQUIRED")


# 403 -----------------------------------------------------------------------------------------


def test_an_operator_token_is_not_a_player(tenant):
    # given an operator of the casino: their operator API token is no player token at all (401)
    user = OperatorFactory(tenant=tenant).user
    assert_problem(client_for(user).get(WALLET), 401, "AUTHENTICATION_REQUIRED")
    # and with a DRF token (the kind players hold), the user is known but no player
    operator = APIClient()
    operator.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    # when it calls the player API, then it is refused, reads and money requests alike
    assert_problem(operator.get(WALLET), 403, "PERMISSION_DENIED")
    assert_problem(operator.get(TRANSACTIONS), 403, "PERMISSION_DENIED")
    with expect_no_change():
        assert_problem(deposit_request(operator), 403, "PERMISSION_DENIED")
    assert not IdempotencyRecord.objects.exists()


def test_a_user_that_is_neither_player_nor_operator_is_refused():
    user = get_user_model().objects.create_user("nobody", password="irrelevant-here")
    assert_problem(client_for(user).get(WALLET), 403, "PERMISSION_DENIED")


def test_a_suspended_tenant_takes_no_new_money_but_shows_and_releases_what_it_holds(api, player, tenant):
    # given a player with a requested withdrawal and money left, in a casino that is then suspended
    withdrawal = withdrawal_in_state("requested", player=player, amount=20_00)
    fund(player, 30_00)
    tenant.status = tenant.Status.SUSPENDED
    tenant.save(update_fields=["status"])
    # when the player deposits or withdraws, then both are refused and nothing changes
    with expect_no_change():
        assert_problem(deposit_request(api), 403, "TENANT_SUSPENDED")
        assert_problem(withdrawal_request(api, "10.00"), 403, "TENANT_SUSPENDED")
    assert balances(player) == (30_00, 20_00)
    # and the wallet can still be read, and the pending withdrawal canceled (money already in flight)
    assert api.get(WALLET).status_code == 200
    response = cancel_request(api, withdrawal.pk)
    assert response.status_code == 200 and response.json()["state"] == "canceled"
    assert balances(player) == (50_00, 0)


# 404 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        deposit_url(UNKNOWN_ID),
        deposit_url("not-a-uuid"),
        deposit_url("1"),
        receipt_url(UNKNOWN_ID),
        receipt_url("not-a-uuid"),
        receipt_url("1' OR '1'='1"),
        "/api/v1/nope/",
        "/api/v1/deposits/" + UNKNOWN_ID + "/extra/",
        "/api/v2/wallet/",
        "/api/nothing-here",
    ],
)
def test_unknown_ids_and_urls_under_the_api_are_problem_404s(api, path):
    assert_problem(api.get(path), 404, "NOT_FOUND")


@pytest.mark.parametrize("tx_id", [UNKNOWN_ID, "not-a-uuid"])
def test_canceling_an_unknown_withdrawal_is_404_and_changes_nothing(api, player, tx_id):
    withdrawal_in_state("requested", player=player)
    with expect_no_change():
        response = cancel_request(api, tx_id)
    assert_problem(response, 404, "NOT_FOUND")


def test_canceling_a_deposit_id_is_404(api, player):
    deposit = Deposit.objects.get(pk=deposit_request(api).json()["id"])
    with expect_no_change():
        assert_problem(cancel_request(api, deposit.pk), 404, "NOT_FOUND")


# 405, 406, 415, 400 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", WALLET),
        ("post", WALLET),
        ("put", DEPOSITS),
        ("get", WITHDRAWALS),
        ("delete", deposit_url(UNKNOWN_ID)),
        ("get", cancel_url(UNKNOWN_ID)),
        ("patch", TRANSACTIONS),
    ],
)
def test_methods_an_endpoint_does_not_have_are_405(api, method, path):
    with expect_no_change():
        response = getattr(api, method)(path, HTTP_IDEMPOTENCY_KEY="k")
    body = assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert method.upper() in body["detail"]


def test_only_json_is_served(api):
    assert_problem(api.get(WALLET, HTTP_ACCEPT="application/xml"), 406, "NOT_ACCEPTABLE")


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("application/x-www-form-urlencoded", "amount=5.00&currency=EUR"),
        (
            "multipart/form-data; boundary=xyz",
            '--xyz\r\nContent-Disposition: form-data; name="amount"\r\n\r\n5\r\n--xyz--',
        ),
        ("text/plain", '{"amount": "5.00", "currency": "EUR"}'),
    ],
    ids=["form", "multipart", "text"],
)
def test_bodies_that_are_not_json_are_415_and_create_nothing(api, content_type, payload):
    with expect_no_change():
        response = api.post(DEPOSITS, payload, content_type=content_type, HTTP_IDEMPOTENCY_KEY="k")
    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("payload", ['{"amount": "5.00", "currency": "EUR"', "{'amount': '5.00'}", "\x00", "NaN"])
def test_malformed_json_is_400_and_creates_nothing(api, player, payload):
    fund(player, 10_00)
    with expect_no_change():
        response = api.post(WITHDRAWALS, payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert_problem(response, 400, "VALIDATION_ERROR")
    assert not Withdrawal.objects.exists()


# 429 -----------------------------------------------------------------------------------------


def test_a_player_over_the_rate_is_told_to_wait_and_others_are_not(api, other_player, settings):
    # given a rate of two requests per hour per player
    settings.API_PLAYER_RATE = "2/hour"
    # when the player makes a third request
    assert api.get(WALLET).status_code == 200
    assert api.get(TRANSACTIONS).status_code == 200
    response = api.get(WALLET)
    # then it is refused with how long to wait, in the header and the body
    body = assert_problem(response, 429, "RATE_LIMITED")
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 3600
    assert body["retry_after"] == retry_after
    # and another player of the same casino is not affected
    assert client_for(other_player).get(WALLET).status_code == 200


def test_a_rate_limited_money_request_does_nothing_and_keeps_its_key(api, player, settings):
    settings.API_PLAYER_RATE = "1/hour"
    assert api.get(WALLET).status_code == 200
    with expect_no_change():
        assert_problem(deposit_request(api, key="dep-1"), 429, "RATE_LIMITED")
    assert not IdempotencyRecord.objects.exists()
    settings.API_PLAYER_RATE = "300/min"
    response = deposit_request(api, key="dep-1")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response


# 422 -----------------------------------------------------------------------------------------


def test_withdrawing_more_than_available_is_insufficient_funds(api, player):
    # given 20.00 available and 5.00 already held
    fund(player, 25_00)
    withdrawal_request(api, "5.00")
    # when the player asks for 20.01
    with expect_no_change():
        response = withdrawal_request(api, "20.01")
    # then it is refused, saying what is available, and nothing moves
    body = assert_problem(response, 422, "INSUFFICIENT_FUNDS")
    assert (body["available"], body["requested"], body["currency"]) == ("20.00", "20.01", "EUR")
    assert balances(player) == (20_00, 5_00)


def test_withdrawing_from_a_currency_never_funded_is_insufficient_funds(api, player):
    fund(player, 25_00)
    with expect_no_change():
        body = assert_problem(withdrawal_request(api, "1.00", "USD"), 422, "INSUFFICIENT_FUNDS")
    assert (body["available"], body["currency"]) == ("0.00", "USD")


def test_the_daily_withdraw_limit_refusal_is_explained_and_audited(api, player, tenant):
    # given a daily withdraw limit of 50.00 EUR, of which 30.00 is used
    set_limits(tenant, daily_withdraw_limit=50_00)
    fund(player, 100_00)
    assert withdrawal_request(api, "30.00").status_code == 201
    # when the player asks for 25.00 more
    with expect_no_change(audit_actions=("limit.refused",)):
        response = withdrawal_request(api, "25.00", HTTP_X_REQUEST_ID="limit-test-0001")
    # then it is refused with the numbers, and only the refusal is written, to the audit trail
    body = assert_problem(response, 422, "TENANT_PAYMENT_LIMIT_EXCEEDED")
    assert {k: body[k] for k in ("action", "limit", "used", "requested", "currency")} == {
        "action": "withdraw",
        "limit": "50.00",
        "used": "30.00",
        "requested": "25.00",
        "currency": "EUR",
    }
    assert balances(player) == (70_00, 30_00)
    event = AuditEvent.objects.get(action="limit.refused")
    assert (event.tenant_id, event.actor_type, event.actor_user_id) == (tenant.pk, "player", player.user_id)
    assert event.request_id == "limit-test-0001" == response["X-Request-ID"]
    # and what still fits is accepted
    assert withdrawal_request(api, "20.00").status_code == 201


def test_the_daily_deposit_limit_counts_open_deposits(api, tenant):
    set_limits(tenant, daily_deposit_limit=40_00)
    assert deposit_request(api, "30.00").status_code == 201
    with expect_no_change(audit_actions=("limit.refused",)):
        body = assert_problem(deposit_request(api, "10.01"), 422, "TENANT_PAYMENT_LIMIT_EXCEEDED")
    assert (body["action"], body["limit"], body["used"], body["requested"]) == ("deposit", "40.00", "30.00", "10.01")
    assert deposit_request(api, "10.00").status_code == 201


# 500 -----------------------------------------------------------------------------------------

SECRET = "db password hunter2 at /work/main/wallet/selectors.py line 42"
LEAKS = ("Traceback", "RuntimeError", "hunter2", "selectors.py", 'File "', "line 42")


def _assert_no_trace(response):
    text = response.content.decode()
    for leak in LEAKS:
        assert leak not in text, f"500 leaks {leak!r}: {text}"


def test_a_crash_in_a_view_is_a_500_problem_without_a_trace(api, monkeypatch):
    def crash(player):
        raise RuntimeError(SECRET)

    monkeypatch.setattr(selectors, "player_wallets", crash)
    response = api.get(WALLET)
    body = assert_problem(response, 500, "INTERNAL_ERROR")
    _assert_no_trace(response)
    assert body["request_id"] == response["X-Request-ID"]


def test_a_crash_outside_the_api_views_is_still_a_500_problem_without_a_trace(api, monkeypatch):
    def crash(request):
        raise RuntimeError(SECRET)

    monkeypatch.setattr(middleware, "client_ip", crash)
    api.raise_request_exception = False
    response = api.get(WALLET)
    assert_problem(response, 500, "INTERNAL_ERROR")
    _assert_no_trace(response)


def test_a_problem_type_can_be_looked_up(api):
    body = assert_problem(api.get(deposit_url(UNKNOWN_ID)), 404, "NOT_FOUND")
    described = api.get(body["type"])
    assert described.status_code == 200
    assert described.json()["error_code"] == "NOT_FOUND"


def test_a_browser_session_is_not_a_credential_for_the_player_api(client, player):
    # given a player logged in to a browser session but sending no token
    client.force_login(player.user)
    # when the session calls the API, then it is unauthenticated: the API takes tokens only (no CSRF exposure)
    assert_problem(client.get(WALLET), 401, "AUTHENTICATION_REQUIRED")
    with expect_no_change():
        response = client.post(
            DEPOSITS, {"amount": "5.00", "currency": "EUR"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
        )
    assert_problem(response, 401, "AUTHENTICATION_REQUIRED")
