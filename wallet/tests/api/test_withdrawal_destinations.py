"""POST /api/v1/withdrawals/ names its destination (`payment_method`); the closed loop decides how much."""

import json

import pytest

from players.tests.factories import PlayerFactory
from wallet.models import Withdrawal
from wallet.tests.factories import bank_account, card, funded_method
from wallet.tests.invariants import expect_no_change

from .helpers import WITHDRAWALS, assert_problem, assert_validation_error, balances, post_money, receipt_url

pytestmark = pytest.mark.django_db


def withdraw(api, amount, method=None, **extra):
    body = {"amount": amount, "currency": "EUR", **extra}
    if method is not None:
        body["payment_method"] = str(getattr(method, "pk", method))
    return post_money(api, WITHDRAWALS, body)


@pytest.fixture
def methods(player):
    return funded_method(player, 50_00, card()), funded_method(player, 30_00, bank_account())


def test_a_withdrawal_names_its_destination(api, player, methods):
    visa, _ = methods
    response = withdraw(api, "50.00", visa)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["payment_method"] == str(visa.pk) and body["state"] == "requested"
    assert Withdrawal.objects.get(pk=body["id"]).payment_method_id == visa.pk
    # and its receipt says where it is paid out to
    assert api.get(receipt_url(body["id"])).json()["payment_method"] == {
        "id": str(visa.pk),
        "kind": "card",
        "label": "Visa •••• 4242",
    }


def test_one_cent_over_is_422_closed_loop_violation_with_what_is_allowed(api, player, methods):
    visa, iban = methods
    with expect_no_change(audit_actions=("withdrawal.refused",)):
        response = withdraw(api, "50.01", visa)
    problem = assert_problem(response, 422, "CLOSED_LOOP_VIOLATION")
    assert problem["reason"] == "over_net_deposits" and problem["payment_method"] == str(visa.pk)
    assert problem["allowed"] == [
        {"payment_method": str(visa.pk), "amount": "50.00"},
        {"payment_method": str(iban.pk), "amount": "30.00"},
    ]
    assert balances(player) == (80_00, 0)


def test_the_destination_is_required_once_the_player_has_a_method(api, methods):
    with expect_no_change():
        assert_validation_error(withdraw(api, "10.00"), "payment_method")


def test_a_malformed_method_id_is_a_validation_error(api, methods):
    assert_validation_error(withdraw(api, "10.00", "card-4242"), "payment_method")


@pytest.mark.parametrize("whose", ["another player's", "another casino's", "unknown"])
def test_a_method_that_is_not_the_players_is_404_alike(api, player, methods, whose):
    method_id = {
        "another player's": lambda: funded_method(PlayerFactory(tenant=player.tenant), 10_00, card()).pk,
        "another casino's": lambda: funded_method(PlayerFactory(), 10_00, card()).pk,
        "unknown": lambda: "0192c3d4-0000-7000-8000-00000000ffff",
    }[whose]()
    with expect_no_change():
        problem = assert_problem(withdraw(api, "10.00", method_id), 404, "NOT_FOUND")
    assert (problem["detail"], problem["payment_method"]) == ("No such payment method.", str(method_id))


def test_the_closed_loop_problem_has_only_documented_members(api, client, methods):
    visa, _ = methods
    document = json.loads(client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    problem = document["components"]["schemas"]["Problem"]
    for response in (withdraw(api, "60.00", visa), withdraw(api, "1.00", "0192c3d4-0000-7000-8000-00000000ffff")):
        assert set(json.loads(response.content)) <= set(problem["properties"])
    assert "payment_method" in document["components"]["schemas"]["WithdrawalCreateRequest"]["properties"]
