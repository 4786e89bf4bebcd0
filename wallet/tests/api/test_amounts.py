"""Amounts are decimal strings in the currency's decimals; anything else is a 400 that moves nothing."""

import pytest

from core.models import IdempotencyRecord
from wallet.models import Deposit, Withdrawal
from wallet.tests.factories import fund
from wallet.tests.invariants import expect_no_change

from .helpers import DEPOSITS, WITHDRAWALS, assert_validation_error, balances, new_key

pytestmark = pytest.mark.django_db

MISSING = object()

BAD_EUR_AMOUNTS = {
    "exponent": "1e3",
    "zero": "0",
    "zero-with-decimals": "0.00",
    "negative": "-5",
    "plus-sign": "+5",
    "three-decimals": "1.001",
    "json-float": 12.5,
    "json-integer": 12,
    "json-true": True,
    "json-list": ["5.00"],
    "json-object": {"value": "5.00"},
    "letters": "abc",
    "empty": "",
    "leading-space": " 5",
    "trailing-space": "5 ",
    "trailing-newline": "5\n",
    "decimal-comma": "1,00",
    "thousands-separator": "1,000.00",
    "underscore": "1_000",
    "hex": "0x10",
    "arabic-indic-digits": "١٢",
    "fullwidth-digits": "１２",
    "leading-zero": "05",
    "bare-point": "5.",
    "no-integer-part": ".5",
    "infinity": "Infinity",
    "nan": "NaN",
    "huge": "99999999999999999999",
    "over-the-maximum": "10000000000000.01",
    "null": None,
    "missing": MISSING,
}


def _body(amount, currency="EUR") -> dict:
    body = {"currency": currency}
    if amount is not MISSING:
        body["amount"] = amount
    return body


@pytest.fixture(params=[DEPOSITS, WITHDRAWALS], ids=["deposit", "withdrawal"])
def money_path(request, player):
    """Both money POSTs; for withdrawals the player is funded, so only the request itself can be wrong."""
    if request.param == WITHDRAWALS:
        fund(player, 1000_00)
        fund(player, 100_000, "JPY")
    return request.param


def _refused(api, player, path, body, field):
    before = (Deposit.objects.count(), Withdrawal.objects.count(), balances(player))
    with expect_no_change():
        response = api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=new_key())
    problem = assert_validation_error(response, field)
    assert (Deposit.objects.count(), Withdrawal.objects.count(), balances(player)) == before
    assert not IdempotencyRecord.objects.exists()
    return problem


@pytest.mark.parametrize("amount", BAD_EUR_AMOUNTS.values(), ids=BAD_EUR_AMOUNTS.keys())
def test_a_bad_eur_amount_is_refused_and_moves_nothing(api, player, money_path, amount):
    _refused(api, player, money_path, _body(amount), "amount")


def test_a_jpy_amount_with_decimals_is_refused(api, player, money_path):
    problem = _refused(api, player, money_path, _body("1.5", "JPY"), "amount")
    assert any("JPY" in message or "decimal" in message for message in problem["errors"]["amount"])


def test_a_whole_jpy_amount_is_accepted(api, money_path):
    response = api.post(money_path, _body("1500", "JPY"), format="json", HTTP_IDEMPOTENCY_KEY=new_key())
    assert response.status_code == 201
    assert response.json()["amount"] == "1500"


def test_the_largest_amount_is_accepted_for_a_deposit(api):
    response = api.post(DEPOSITS, _body("10000000000000.00"), format="json", HTTP_IDEMPOTENCY_KEY=new_key())
    assert response.status_code == 201
    assert response.json()["amount"] == "10000000000000.00"


BAD_CURRENCIES = {
    "unknown": "XXX",
    "not-allowed-by-tenant": "GBP",
    "lowercase": "eur",
    "numeric-code": 978,
    "empty": "",
    "null": None,
    "missing": MISSING,
}


@pytest.mark.parametrize("currency", BAD_CURRENCIES.values(), ids=BAD_CURRENCIES.keys())
def test_a_bad_currency_is_refused_and_moves_nothing(api, player, money_path, currency):
    body = {"amount": "5.00"} if currency is MISSING else {"amount": "5.00", "currency": currency}
    _refused(api, player, money_path, body, "currency")


@pytest.mark.parametrize(
    "body", [[], ["5.00", "EUR"], "5.00", 5, None], ids=["list", "pair", "string", "number", "null"]
)
def test_a_body_that_is_not_an_object_is_refused(api, player, money_path, body):
    before = balances(player)
    with expect_no_change():
        response = api.post(money_path, body, format="json", HTTP_IDEMPOTENCY_KEY=new_key())
    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_ERROR"
    assert balances(player) == before


def test_every_problem_names_each_wrong_field(api, money_path):
    response = api.post(money_path, {}, format="json", HTTP_IDEMPOTENCY_KEY=new_key())
    problem = assert_validation_error(response, "amount")
    assert "currency" in problem["errors"]
