"""POST deposits/ and GET deposits/<id>/."""

import pytest

from core.models import AuditEvent
from wallet.models import Deposit, DepositTransition, JournalEntry
from wallet.tests.builders import deposit_in_state, withdraw
from wallet.tests.factories import fund

from .helpers import assert_problem, balances, deposit_request, deposit_url

pytestmark = pytest.mark.django_db


def test_starting_a_deposit_opens_a_checkout_and_moves_no_money_yet(api, player):
    # given a player with 10.00 EUR
    fund(player, 10_00)
    # when the player starts a deposit of 25.00 EUR
    response = deposit_request(api, "25.00", "EUR")
    # then it is handed to the PSP: pending with a checkout URL, and nothing is credited before the PSP confirms
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    assert "Idempotent-Replayed" not in response
    body = response.json()
    assert (body["type"], body["amount"], body["currency"], body["state"]) == (
        "deposit",
        "25.00",
        "EUR",
        "pending_provider",
    )
    assert body["reference"].startswith("DP-")
    assert body["checkout_url"].startswith("http") and body["provider_reference"].startswith("pay_")
    assert body["completed_at"] is None
    stored = Deposit.objects.get(pk=body["id"])
    assert (stored.player_id, stored.amount, stored.currency, stored.state) == (
        player.pk,
        25_00,
        "EUR",
        "pending_provider",
    )
    assert (stored.reference, stored.checkout_url) == (body["reference"], body["checkout_url"])
    assert balances(player) == (10_00, 0)
    assert not JournalEntry.objects.filter(deposit=stored).exists()
    # and both steps are in the timeline, and the creation in the audit trail, attributed to the player and request
    assert list(
        DepositTransition.objects.filter(deposit=stored).order_by("id").values_list("from_state", "to_state")
    ) == [
        ("", "created"),
        ("created", "pending_provider"),
    ]
    event = AuditEvent.objects.get(action="deposit.created", target_id=str(stored.pk))
    assert (event.actor_type, event.actor_user_id, event.tenant_id) == ("player", player.user_id, player.tenant_id)
    assert event.request_id == response["X-Request-ID"]


def test_a_zero_decimal_currency_takes_whole_units(api, player):
    response = deposit_request(api, "1500", "JPY")
    assert response.status_code == 201
    assert (response.json()["amount"], response.json()["currency"]) == ("1500", "JPY")
    assert Deposit.objects.get(pk=response.json()["id"]).amount == 1500


@pytest.mark.parametrize(
    ("sent", "shown", "minor"), [("25", "25.00", 25_00), ("7.5", "7.50", 7_50), ("0.01", "0.01", 1)]
)
def test_amounts_with_fewer_decimals_are_normalised(api, sent, shown, minor):
    response = deposit_request(api, sent)
    assert response.status_code == 201
    assert response.json()["amount"] == shown
    assert Deposit.objects.get(pk=response.json()["id"]).amount == minor


def test_reading_a_deposit_returns_what_creating_it_returned(api):
    # given a deposit started through the API
    created = deposit_request(api, "12.34").json()
    # when it is read back
    response = api.get(deposit_url(created["id"]))
    # then it is the same representation
    assert response.status_code == 200
    assert response.json() == created


def test_reading_a_deposit_shows_its_progress_at_the_provider(api, player):
    # given a deposit the provider completed
    done = deposit_in_state("completed", player=player, amount=30_00)
    # when it is read
    body = api.get(deposit_url(done.pk)).json()
    # then its state, provider reference and completion time are shown
    assert (body["state"], body["amount"], body["provider_reference"]) == ("completed", "30.00", f"psp-{done.pk}")
    assert body["completed_at"] is not None


def test_a_withdrawal_id_is_not_a_deposit(api, player):
    fund(player, 10_00)
    withdrawal = withdraw(player, 10_00)
    assert_problem(api.get(deposit_url(withdrawal.pk)), 404, "NOT_FOUND")
