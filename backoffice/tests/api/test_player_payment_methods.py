"""The operator API's player page names the player's payment methods."""

import pytest

from players.tests.factories import PlayerFactory
from wallet.tests.factories import card, funded_method

from .helpers import ADMIN_API, as_operator, body_of

pytestmark = pytest.mark.django_db


def test_the_players_page_lists_their_methods(viewer, player, tenant):
    # given a card of the player's that another player of the casino also used
    visa = funded_method(player, 12_00, card("4111111111111111"))
    funded_method(PlayerFactory(tenant=tenant), 3_00, card("4111111111111111"))
    # when an operator reads the player
    body = body_of(as_operator(viewer).get(f"{ADMIN_API}/players/{player.pk}/"))
    # then the method is there with its fingerprint, net deposits and the shared count
    (method,) = body["payment_methods"]
    assert method["id"] == str(visa.pk)
    assert (method["kind"], method["label"], method["fingerprint"], method["payout_capable"]) == (
        "card",
        "Visa •••• 1111",
        "4111111111111111",
        True,
    )
    assert method["net_deposited"] == [{"currency": "EUR", "amount": "12.00"}]
    assert method["shared_with"] == 1


def test_the_players_page_names_the_restriction_a_chargeback_left(viewer, player):
    from wallet.services import charge_back_deposit, request_withdrawal
    from wallet.tests.builders import PSP, player_of
    from wallet.tests.factories import deposit_with

    disputed = deposit_with(player, 50_00, method=card())
    request_withdrawal(
        player=player, amount=50_00, currency="EUR", actor=player_of(player), payment_method=disputed.payment_method
    )
    charge_back_deposit(disputed, actor=PSP)
    body = body_of(as_operator(viewer).get(f"{ADMIN_API}/players/{player.pk}/"))
    assert body["restriction"] == {"reason": "receivable", "receivables": [{"currency": "EUR", "amount": "50.00"}]}
    assert body["balances"] == [{"currency": "EUR", "available": "0.00", "held": "50.00", "receivable": "50.00"}]
