"""A player sees and touches only its own objects: others' ids are 404, exactly like unknown ids."""

import json

import pytest

from wallet.models import Withdrawal
from wallet.tests.builders import deposit_in_state, withdrawal_in_state
from wallet.tests.invariants import expect_no_change

from .helpers import TRANSACTIONS, WALLET, assert_problem, cancel_request, client_for, deposit_url, receipt_url

pytestmark = pytest.mark.django_db

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(params=["other_player", "foreign_player"], ids=["same-tenant", "other-tenant"])
def owner(request):
    """Someone else: another player of the same casino, or a player of another casino."""
    return request.getfixturevalue(request.param)


def _not_found_body(response) -> dict:
    body = assert_problem(response, 404, "NOT_FOUND")
    return {k: v for k, v in body.items() if k != "request_id"}


def test_someone_elses_deposit_is_not_found(api, owner):
    theirs = deposit_in_state("completed", player=owner)
    unknown = _not_found_body(api.get(deposit_url(UNKNOWN_ID)))
    with expect_no_change():
        assert _not_found_body(api.get(deposit_url(theirs.pk))) == unknown
        assert _not_found_body(api.get(receipt_url(theirs.pk))) == unknown


def test_someone_elses_withdrawal_can_be_neither_read_nor_canceled(api, owner):
    # given a requested withdrawal of someone else
    theirs = withdrawal_in_state("requested", player=owner)
    unknown = _not_found_body(api.get(receipt_url(UNKNOWN_ID)))
    # when the player reads it or tries to cancel it
    with expect_no_change():
        read = api.get(receipt_url(theirs.pk))
        canceled = cancel_request(api, theirs.pk)
        canceled_again = cancel_request(api, theirs.pk, key="same-key")
    # then both are 404, indistinguishable from an id that does not exist, and it stays requested
    assert _not_found_body(read) == unknown
    assert _not_found_body(canceled) == _not_found_body(canceled_again) == unknown
    assert Withdrawal.objects.get(pk=theirs.pk).state == "requested"


def test_someone_elses_transactions_are_not_in_the_history_or_wallet(api, owner):
    deposit_in_state("completed", player=owner)
    withdrawal_in_state("requested", player=owner)
    assert api.get(TRANSACTIONS).json() == {"results": [], "next": None}
    wallets = api.get(WALLET).json()["wallets"]
    assert all(row["total"] in ("0", "0.00") for row in wallets)


def test_a_cursor_does_not_open_someone_elses_history(api, owner):
    # given a cursor taken from the other player's history
    for _ in range(3):
        deposit_in_state("created", player=owner)
    page = client_for(owner).get(TRANSACTIONS, {"limit": 1}).json()
    assert page["next"]
    # when the player follows it, then it only positions within the player's own (empty) history
    response = api.get(page["next"])
    assert response.status_code == 200
    assert json.loads(response.content)["results"] == []
