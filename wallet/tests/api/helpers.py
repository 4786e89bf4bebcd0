"""Small helpers shared by the player API tests: URLs, clients, problem checks, balances."""

import json
import re
import uuid

from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tenants.models import OperatorMembership
from tenants.tests.factories import operator_api_key
from wallet.models import Wallet

PROBLEM_JSON = "application/problem+json"
PROBLEM_MEMBERS = ("type", "title", "status", "detail", "error_code")

WALLET = "/api/v1/wallet/"
DEPOSITS = "/api/v1/deposits/"
WITHDRAWALS = "/api/v1/withdrawals/"
TRANSACTIONS = "/api/v1/transactions/"
LIMITS = "/api/v1/limits/"
EXCLUSIONS = "/api/v1/exclusions/"
PASSWORD = "correct-horse-battery"  # tenants.tests.factories.UserFactory


def deposit_url(tx_id) -> str:
    return f"{DEPOSITS}{tx_id}/"


def cancel_url(tx_id) -> str:
    return f"{WITHDRAWALS}{tx_id}/cancel/"


def receipt_url(tx_id) -> str:
    return f"{TRANSACTIONS}{tx_id}/"


def token_of(user) -> str:
    """The user's API key: a new expiring operator token for an operator, else the user's DRF token."""
    if user.is_superuser or OperatorMembership.objects.filter(user=user).exists():
        return operator_api_key(user)
    return Token.objects.get_or_create(user=user)[0].key


def client_for(player_or_user) -> APIClient:
    """A fresh APIClient sending `Authorization: Token <key>` for a player or an operator."""
    user = getattr(player_or_user, "user", player_or_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_of(user)}")
    return client


def page_session_client(player) -> APIClient:
    """An APIClient with the token the player page hands its script: sign in on the page, read it there."""
    browser = Client()
    signed_in = browser.post("/play/login/", {"username": player.user.username, "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.content[:300]
    token = re.search(r'data-token="([^"]+)"', browser.get("/play/").content.decode()).group(1)
    assert token.startswith("ps_")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def new_key() -> str:
    return f"test-{uuid.uuid4()}"


def post_money(client, path: str, body, *, key: str | None = "auto", **headers):
    """POST a JSON body with an Idempotency-Key (a fresh one unless given; None sends none)."""
    if key == "auto":
        key = new_key()
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(path, body, format="json", **headers)


def deposit_request(client, amount="25.00", currency="EUR", **kwargs):
    return post_money(client, DEPOSITS, {"amount": amount, "currency": currency}, **kwargs)


def withdrawal_request(client, amount="25.00", currency="EUR", **kwargs):
    return post_money(client, WITHDRAWALS, {"amount": amount, "currency": currency}, **kwargs)


def cancel_request(client, tx_id, body=None, **kwargs):
    return post_money(client, cancel_url(tx_id), body or {}, **kwargs)


def put_limit(client, currency="EUR", kind="deposit", period="day", amount="100.00", **headers):
    body = {"currency": currency, "kind": kind, "period": period, "amount": amount}
    return client.put(LIMITS, body, format="json", **headers)


def post_exclusion(client, body: dict, **headers):
    return client.post(EXCLUSIONS, body, format="json", **headers)


def assert_problem(response, status: int, error_code: str) -> dict:
    """The response is RFC 9457 problem+json with the stable code; returns the body."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].split(";")[0].strip() == PROBLEM_JSON, response["Content-Type"]
    body = json.loads(response.content)
    for member in PROBLEM_MEMBERS:
        assert member in body, f"problem body lacks {member!r}: {body}"
    assert body["status"] == status
    assert body["error_code"] == error_code, body
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["type"].startswith("/api/v1/problems/") or body["type"].startswith("http")
    return body


def assert_validation_error(response, field: str) -> dict:
    body = assert_problem(response, 400, "VALIDATION_ERROR")
    assert field in body.get("errors", {}), body
    assert body["errors"][field] and all(isinstance(m, str) for m in body["errors"][field])
    return body


def balances(player, currency: str = "EUR") -> tuple[int, int]:
    """(available, held) in minor units, read from the database."""
    wallet = Wallet.objects.filter(player=player, currency=currency).first()
    return (wallet.balance_available, wallet.balance_held) if wallet else (0, 0)
