"""GET wallet/ and GET transactions/<id>/: balances and receipts as decimal strings."""

import pytest
from django.utils.dateparse import parse_datetime

from players.tests.factories import PlayerFactory
from wallet.models import Wallet
from wallet.services import complete_deposit, mark_deposit_pending, record_payout_succeeded
from wallet.tests.builders import PSP, deposit, deposit_in_state, pending_attempt, withdraw, withdrawal_in_state
from wallet.tests.factories import fund

from .helpers import WALLET, assert_problem, balances, client_for, receipt_url

pytestmark = pytest.mark.django_db


def _wallets(response) -> dict[str, dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return {row["currency"]: row for row in response.json()["wallets"]}


def test_wallet_lists_every_allowed_currency_with_decimal_string_balances(api, player):
    # given EUR 100.00 deposited and EUR 25.00 of it requested for withdrawal
    fund(player, 100_00)
    withdraw(player, 25_00)
    # when the player reads the wallet
    response = api.get(WALLET)
    # then each of the tenant's currencies is listed, the unused ones as zero, in the currency's decimals
    assert _wallets(response) == {
        "EUR": {"currency": "EUR", "available": "75.00", "held": "25.00", "total": "100.00", "receivable": "0.00"},
        "JPY": {"currency": "JPY", "available": "0", "held": "0", "total": "0", "receivable": "0"},
        "USD": {"currency": "USD", "available": "0.00", "held": "0.00", "total": "0.00", "receivable": "0.00"},
    }
    assert [row["currency"] for row in response.json()["wallets"]] == ["EUR", "JPY", "USD"]


def test_a_new_player_sees_zero_rows_and_reading_creates_no_wallet(api, player):
    # given a player who never paid anything
    # when the wallet is read
    wallets = _wallets(api.get(WALLET))
    # then every allowed currency shows zero, and no wallet row was written by the read
    assert {c: (w["available"], w["held"], w["total"]) for c, w in wallets.items()} == {
        "EUR": ("0.00", "0.00", "0.00"),
        "JPY": ("0", "0", "0"),
        "USD": ("0.00", "0.00", "0.00"),
    }
    assert not Wallet.objects.filter(player=player).exists()


def test_money_in_a_currency_the_tenant_no_longer_accepts_stays_visible(api, player, tenant):
    # given a USD balance, after which the casino stops accepting USD
    fund(player, 12_34, "USD")
    tenant.allowed_currencies = ["EUR"]
    tenant.save(update_fields=["allowed_currencies"])
    # when the wallet is read, then the USD money is still shown
    wallets = _wallets(api.get(WALLET))
    assert wallets["USD"]["available"] == "12.34"
    assert set(wallets) == {"EUR", "USD"}


def test_the_wallet_shows_only_the_callers_own_money(api, player, other_player, foreign_player):
    # given money in other players' wallets only
    fund(other_player, 50_00)
    fund(foreign_player, 70_00)
    # when the player reads the wallet, then none of it appears
    assert _wallets(api.get(WALLET))["EUR"]["total"] == "0.00"


# Receipts -----------------------------------------------------------------------------------


def _timeline(receipt) -> list[str]:
    moments = [parse_datetime(row["at"]) for row in receipt["timeline"]]
    assert moments == sorted(moments), "timeline is not in time order"
    assert all(row["at"] for row in receipt["timeline"])
    return [(row["from_state"], row["state"]) for row in receipt["timeline"]]


def test_receipt_of_a_completed_deposit(api, player):
    # given a deposit the provider completed
    done = deposit_in_state("completed", player=player, amount=40_00)
    # when the player reads its receipt
    response = api.get(receipt_url(done.pk))
    # then it carries reference, money as text, the ordered timeline, the provider's reference and the balance after
    assert response.status_code == 200
    receipt = response.json()
    assert receipt["id"] == str(done.pk)
    assert receipt["reference"] == done.reference and receipt["reference"].startswith("DP-")
    assert (receipt["type"], receipt["amount"], receipt["currency"], receipt["state"]) == (
        "deposit",
        "40.00",
        "EUR",
        "completed",
    )
    assert _timeline(receipt) == [("", "created"), ("created", "pending_provider"), ("pending_provider", "completed")]
    assert receipt["provider_reference"] == f"psp-{done.pk}"
    assert receipt["balance_after"] == {"available": "40.00", "held": "0.00", "receivable": "0.00"}


def test_receipt_of_a_deposit_that_moved_no_money_has_no_balance_after(api, player):
    opened = deposit(player, 10_00)
    receipt = api.get(receipt_url(opened.pk)).json()
    assert receipt["state"] == "created"
    assert _timeline(receipt) == [("", "created")]
    assert receipt["provider_reference"] is None
    assert receipt["balance_after"] is None


def test_receipts_show_the_balance_right_after_their_own_transaction(api, player):
    # given 100.00 deposited, 30.00 requested for withdrawal, then 50.00 more deposited
    fund(player, 100_00)
    withdrawal = withdraw(player, 30_00)
    later = deposit(player, 50_00)
    mark_deposit_pending(later, actor=PSP, provider_reference="psp-later")
    complete_deposit(later, actor=PSP)
    assert balances(player) == (120_00, 30_00)
    # when the player reads both receipts
    withdrawal_receipt = api.get(receipt_url(withdrawal.pk)).json()
    later_receipt = api.get(receipt_url(later.pk)).json()
    # then the withdrawal's is the wallet as it stood after the withdrawal, the latest one is the wallet now
    assert withdrawal_receipt["balance_after"] == {"available": "70.00", "held": "30.00", "receivable": "0.00"}
    assert withdrawal_receipt["provider_reference"] is None
    assert later_receipt["balance_after"] == {"available": "120.00", "held": "30.00", "receivable": "0.00"}
    assert later_receipt["provider_reference"] == "psp-later"


@pytest.mark.parametrize(
    ("state", "timeline", "after"),
    [
        ("requested", [("", "requested")], {"available": "0.00", "held": "25.00", "receivable": "0.00"}),
        (
            "canceled",
            [("", "requested"), ("requested", "canceled")],
            {"available": "25.00", "held": "0.00", "receivable": "0.00"},
        ),
        (
            "rejected",
            [("", "requested"), ("requested", "rejected")],
            {"available": "25.00", "held": "0.00", "receivable": "0.00"},
        ),
        (
            "paid",
            [("", "requested"), ("requested", "approved"), ("approved", "paid")],
            {"available": "0.00", "held": "0.00", "receivable": "0.00"},
        ),
    ],
)
def test_receipt_of_a_withdrawal(state, timeline, after):
    # given a withdrawal of the player's whole 25.00 that reached `state`
    player = PlayerFactory()
    withdrawal = withdrawal_in_state(state, player=player)
    # when its receipt is read
    receipt = client_for(player).get(receipt_url(withdrawal.pk)).json()
    # then the timeline lists each state in order and the balance after matches the wallet
    assert (receipt["type"], receipt["state"], receipt["amount"]) == ("withdrawal", state, "25.00")
    assert receipt["reference"] == withdrawal.reference and receipt["reference"].startswith("WD-")
    assert _timeline(receipt) == timeline
    assert receipt["balance_after"] == after
    available, held = balances(player)
    assert after == {"available": f"{available / 100:.2f}", "held": f"{held / 100:.2f}", "receivable": "0.00"}


def test_receipt_for_an_unknown_id_is_not_found(api):
    assert_problem(api.get(receipt_url("00000000-0000-0000-0000-000000000000")), 404, "NOT_FOUND")
    assert_problem(api.get(receipt_url("not-a-uuid")), 404, "NOT_FOUND")


def test_receipt_of_a_withdrawal_the_provider_paid_carries_the_payout_reference():
    # given a withdrawal whose payout the PSP confirmed with its own reference
    player = PlayerFactory()
    withdrawal = withdrawal_in_state("payout_pending", player=player)
    record_payout_succeeded(pending_attempt(withdrawal), actor=PSP, provider_reference="po-12345")
    # when the receipt is read
    receipt = client_for(player).get(receipt_url(withdrawal.pk)).json()
    # then it is paid, with the full timeline, the provider's payout reference and nothing left held
    assert receipt["state"] == "paid"
    assert _timeline(receipt) == [
        ("", "requested"),
        ("requested", "approved"),
        ("approved", "payout_pending"),
        ("payout_pending", "paid"),
    ]
    assert receipt["provider_reference"] == "po-12345"
    assert receipt["balance_after"] == {"available": "0.00", "held": "0.00", "receivable": "0.00"}
