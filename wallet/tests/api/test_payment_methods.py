"""GET /api/v1/payment-methods/: the player's own methods, with net deposits per currency."""

import pytest

from wallet.tests.builders import operator_of
from wallet.tests.factories import bank_account, card, deposit_with, funded_method

from .helpers import client_for, deposit_url, receipt_url

pytestmark = pytest.mark.django_db
METHODS = "/api/v1/payment-methods/"


def test_the_player_sees_their_methods_with_net_deposits_per_currency(api, player, other_player):
    # given a card used for 30.00 EUR and 5.00 USD, a bank account for 12.00 EUR, and another player's card
    visa = funded_method(player, 30_00, card())
    deposit_with(player, 5_00, "USD", method=card())
    iban = funded_method(player, 12_00, bank_account())
    funded_method(other_player, 99_00, card())
    # when the player lists their payment methods
    response = api.get(METHODS)
    # then both of theirs are there, oldest first, with what each brought in per currency
    assert response.status_code == 200
    methods = response.json()["payment_methods"]
    assert [m["id"] for m in methods] == [str(visa.pk), str(iban.pk)]
    first = methods[0]
    assert (first["kind"], first["label"], first["provider"], first["payout_capable"]) == (
        "card",
        "Visa •••• 4242",
        "sandbox",
        True,
    )
    assert first["net_deposited"] == [{"currency": "EUR", "amount": "30.00"}, {"currency": "USD", "amount": "5.00"}]
    assert methods[1]["net_deposited"] == [{"currency": "EUR", "amount": "12.00"}]
    assert set(first) == {
        "id",
        "provider",
        "kind",
        "label",
        "payout_capable",
        "created_at",
        "last_used_at",
        "net_deposited",
    }


def test_a_player_without_methods_has_an_empty_list(api):
    assert api.get(METHODS).json() == {"payment_methods": []}


def test_the_list_needs_a_player_token(client, player, tenant):
    assert client.get(METHODS).status_code == 401
    assert client_for(operator_of(tenant).user).get(METHODS).status_code in (401, 403)


def test_deposits_and_receipts_name_their_method(api, player):
    # given a deposit paid with a card and one paid with no reported method
    paid = deposit_with(player, 20_00, method=card())
    plain = deposit_with(player, 5_00)
    # then the deposit names the method's id, and its receipt its kind and label
    assert api.get(deposit_url(paid.pk)).json()["payment_method"] == str(paid.payment_method_id)
    assert api.get(receipt_url(paid.pk)).json()["payment_method"] == {
        "id": str(paid.payment_method_id),
        "kind": "card",
        "label": "Visa •••• 4242",
    }
    assert api.get(deposit_url(plain.pk)).json()["payment_method"] is None
    assert api.get(receipt_url(plain.pk)).json()["payment_method"] is None
