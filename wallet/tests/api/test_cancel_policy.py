"""Reverse withdrawals: `cancelable` tells the player beforehand; a casino that forbids them refuses the cancel."""

import pytest

from tenants.models import PaymentPolicy
from wallet.models import Withdrawal
from wallet.tests.builders import deposit_in_state, withdrawal_in_state
from wallet.tests.factories import fund
from wallet.tests.invariants import expect_no_change

from .helpers import TRANSACTIONS, assert_problem, balances, cancel_request, receipt_url, withdrawal_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_reverse_withdrawals(tenant):
    PaymentPolicy.objects.filter(tenant=tenant).update(player_cancel_allowed=False)


def _cancelable_by_reference(api) -> dict[str, bool]:
    return {row["reference"]: row["cancelable"] for row in api.get(TRANSACTIONS).json()["results"]}


def test_only_a_withdrawal_awaiting_review_is_cancelable(api, player):
    # given a requested and a paid withdrawal and a completed deposit
    requested = withdrawal_in_state("requested", player=player)
    paid = withdrawal_in_state("paid", player=player)
    deposit = deposit_in_state("completed", player=player)
    # then only the requested withdrawal is cancelable, in the history (deposits never) and on its receipt
    rows = api.get(TRANSACTIONS).json()["results"]
    assert {row["reference"] for row in rows if row["cancelable"]} == {requested.reference}
    assert {paid.reference, deposit.reference} <= {row["reference"] for row in rows}
    assert api.get(receipt_url(requested.pk)).json()["cancelable"] is True
    assert api.get(receipt_url(paid.pk)).json()["cancelable"] is False


def test_a_new_withdrawal_says_it_can_be_canceled_and_a_canceled_one_that_it_cannot(api, player):
    fund(player, 50_00)
    created = withdrawal_request(api, "20.00").json()
    assert created["cancelable"] is True
    canceled = cancel_request(api, created["id"])
    assert canceled.status_code == 200
    assert canceled.json()["cancelable"] is False


@pytest.mark.usefixtures("no_reverse_withdrawals")
def test_where_the_casino_forbids_reverse_withdrawals_nothing_is_cancelable(api, player):
    # given a casino that allows no reverse withdrawals, and a withdrawal awaiting review
    fund(player, 50_00)
    created = withdrawal_request(api, "20.00").json()
    # then it says so in the answer, the history and the receipt
    assert created["cancelable"] is False
    assert _cancelable_by_reference(api)[created["reference"]] is False
    assert api.get(receipt_url(created["id"])).json()["cancelable"] is False


@pytest.mark.usefixtures("no_reverse_withdrawals")
def test_a_cancel_that_reaches_the_api_anyway_is_refused_and_changes_nothing(api, player):
    # given a requested withdrawal at a casino that allows no reverse withdrawals
    withdrawal = withdrawal_in_state("requested", player=player)
    held = balances(player)
    # when the player tries to cancel it
    with expect_no_change():
        response = cancel_request(api, withdrawal.pk)
    # then it is refused with its own code, the money stays held and the key is not spent
    assert_problem(response, 403, "WITHDRAWAL_CANCEL_DISABLED")
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "requested"
    assert balances(player) == held
