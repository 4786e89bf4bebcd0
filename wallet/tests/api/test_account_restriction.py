"""A chargeback the balance could not cover: the player API shows what is owed and refuses withdrawals
(403 PLAYER_ACCOUNT_RESTRICTED), while deposits still work and repay it first."""

import json

import pytest

from wallet.models import Withdrawal
from wallet.services import approve_withdrawal, charge_back_deposit, mark_withdrawal_paid
from wallet.tests.builders import PSP, REASON, operator_of
from wallet.tests.factories import card, deposit_with
from wallet.tests.invariants import world

from .helpers import WALLET, WITHDRAWALS, assert_problem, deposit_request, post_money

pytestmark = pytest.mark.django_db


@pytest.fixture
def owing(api, player):
    """The player deposited 40.00 by card, withdrew all of it (paid), then the deposit was charged back."""
    disputed = deposit_with(player, 40_00, method=card())
    response = post_money(
        api, WITHDRAWALS, {"amount": "40.00", "currency": "EUR", "payment_method": str(disputed.payment_method_id)}
    )
    withdrawal = Withdrawal.objects.get(pk=response.json()["id"])
    approve_withdrawal(withdrawal, actor=operator_of(player.tenant), reason=REASON)
    mark_withdrawal_paid(withdrawal, actor=operator_of(player.tenant), reason=REASON)
    charge_back_deposit(disputed, actor=PSP)
    return disputed


def test_the_wallet_shows_what_is_owed(api, owing):
    eur = next(w for w in api.get(WALLET).json()["wallets"] if w["currency"] == "EUR")
    assert (eur["available"], eur["held"], eur["receivable"]) == ("0.00", "0.00", "40.00")


def test_a_withdrawal_is_refused_403_and_moves_nothing(api, owing, client):
    before = world()  # (the refusal's audit is the service's, tested there: a 403 answer is not kept)
    response = post_money(
        api, WITHDRAWALS, {"amount": "1.00", "currency": "EUR", "payment_method": str(owing.payment_method_id)}
    )
    assert world() == before
    problem = assert_problem(response, 403, "PLAYER_ACCOUNT_RESTRICTED")
    assert problem["reason"] == "receivable" and problem["receivables"] == [{"currency": "EUR", "amount": "40.00"}]
    document = json.loads(client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    assert set(problem) <= set(document["components"]["schemas"]["Problem"]["properties"])


def test_a_deposit_is_still_taken_and_repays_first(api, owing, player):
    response = deposit_request(api, "10.00", "EUR")
    assert response.status_code == 201, response.content
