"""POST withdrawals/ and POST withdrawals/<id>/cancel/."""

import pytest

from core.models import AuditEvent
from players.tests.factories import PlayerFactory
from wallet.models import JournalEntry, Withdrawal, WithdrawalTransition
from wallet.tests.builders import WITHDRAWAL_STATES, withdrawal_in_state
from wallet.tests.factories import fund
from wallet.tests.invariants import assert_invariants, expect_no_change

from .helpers import assert_problem, balances, cancel_request, client_for, withdrawal_request

pytestmark = pytest.mark.django_db


def test_requesting_a_withdrawal_moves_the_amount_from_available_to_held(api, player):
    # given 100.00 EUR available
    fund(player, 100_00)
    # when the player asks to withdraw 40.00
    response = withdrawal_request(api, "40.00")
    # then the withdrawal is requested and the money is held, with one ledger entry
    assert response.status_code == 201
    body = response.json()
    assert (body["type"], body["amount"], body["currency"], body["state"]) == (
        "withdrawal",
        "40.00",
        "EUR",
        "requested",
    )
    assert body["reference"].startswith("WD-") and body["paid_at"] is None
    withdrawal = Withdrawal.objects.get(pk=body["id"])
    assert (withdrawal.player_id, withdrawal.amount, withdrawal.requested_by_id) == (player.pk, 40_00, player.user_id)
    assert balances(player) == (60_00, 40_00)
    assert list(JournalEntry.objects.filter(withdrawal=withdrawal).values_list("event_type", flat=True)) == [
        "withdraw_requested"
    ]
    assert AuditEvent.objects.filter(action="withdrawal.requested", target_id=str(withdrawal.pk)).count() == 1
    assert_invariants()


def test_withdrawing_the_whole_balance_leaves_zero_available(api, player):
    fund(player, 25_00)
    assert withdrawal_request(api, "25.00").status_code == 201
    assert balances(player) == (0, 25_00)


def test_canceling_a_requested_withdrawal_returns_the_money(api, player):
    # given a requested withdrawal of 25.00 out of 25.00
    withdrawal = withdrawal_in_state("requested", player=player)
    # when the player cancels it, with a reason
    response = cancel_request(api, withdrawal.pk, {"reason": "changed my mind"})
    # then it is canceled and the held money is available again
    assert response.status_code == 200
    assert response.json()["state"] == "canceled"
    assert response.json()["id"] == str(withdrawal.pk)
    assert balances(player) == (25_00, 0)
    assert JournalEntry.objects.filter(withdrawal=withdrawal, event_type="withdraw_released").count() == 1
    last = WithdrawalTransition.objects.filter(withdrawal=withdrawal).latest("id")
    assert (last.from_state, last.to_state, last.reason, last.actor_type) == (
        "requested",
        "canceled",
        "changed my mind",
        "player",
    )
    assert_invariants()


def test_canceling_without_a_body_works(api, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    response = api.post(
        f"/api/v1/withdrawals/{withdrawal.pk}/cancel/", content_type="application/json", HTTP_IDEMPOTENCY_KEY="c-1"
    )
    assert response.status_code == 200 and response.json()["state"] == "canceled"


def test_canceling_a_canceled_withdrawal_again_succeeds_without_a_second_effect(api, player):
    # given a withdrawal the player already canceled
    withdrawal = withdrawal_in_state("canceled", player=player)
    # when it is canceled again with a new Idempotency-Key
    with expect_no_change():
        response = cancel_request(api, withdrawal.pk)
    # then the answer is the canceled withdrawal and nothing moved a second time
    assert response.status_code == 200
    assert response.json()["state"] == "canceled"
    assert "Idempotent-Replayed" not in response
    assert balances(player) == (25_00, 0)
    assert JournalEntry.objects.filter(withdrawal=withdrawal, event_type="withdraw_released").count() == 1


@pytest.mark.parametrize("state", [s for s in WITHDRAWAL_STATES if s not in ("requested", "canceled")])
def test_a_withdrawal_past_review_cannot_be_canceled(state):
    # given a withdrawal that is `state`
    player = PlayerFactory()
    withdrawal = withdrawal_in_state(state, player=player)
    # when the player tries to cancel it
    with expect_no_change():
        response = cancel_request(client_for(player), withdrawal.pk)
    # then it is refused as an illegal transition and nothing changes
    body = assert_problem(response, 409, "ILLEGAL_TRANSACTION_STATE_TRANSITION")
    assert (body["from_state"], body["to_state"], body["tx_type"]) == (state, "canceled", "withdrawal")
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == state


def test_cancel_reasons_are_bounded(api, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    with expect_no_change():
        response = cancel_request(api, withdrawal.pk, {"reason": "x" * 501})
    body = assert_problem(response, 400, "VALIDATION_ERROR")
    assert "reason" in body["errors"]
