"""The four calls: what each answers and what each moves (ARCHITECTURE section 15)."""

import pytest

from games.models import GameRound, GameTransaction, RoundStatus, TransactionStatus
from wallet.models import JournalEntry, LedgerEvent, Posting

from .helpers import books, house_balance

pytestmark = pytest.mark.django_db


def test_balance_answers_the_available_balance(provider, token, wallet):
    response = provider.balance(token)
    assert response.status_code == 200
    assert response.json() == {
        "balance": "100.00",
        "currency": "EUR",
        "transaction_id": None,
        "wallet_transaction_id": None,
    }


def test_a_bet_takes_available_money_into_the_house_and_opens_the_round(provider, token, wallet, tenant):
    # when a bet of 10.00 is placed
    response = provider.bet(token, "tx-1", round_id="r-1", amount="10.00")
    # then it answers the balance after it and our record of it
    assert response.status_code == 200, response.content
    body = response.json()
    tx = GameTransaction.objects.get(transaction_id="tx-1")
    assert body == {
        "balance": "90.00",
        "currency": "EUR",
        "transaction_id": "tx-1",
        "wallet_transaction_id": str(tx.pk),
    }
    # and the money moved once, player available against the tenant's game house
    wallet.refresh_from_db()
    assert wallet.balance_available == 90_00
    entry = JournalEntry.objects.get(game_transaction_id=tx.pk)
    assert entry.event_type == LedgerEvent.BET_PLACED
    assert sorted(Posting.objects.filter(entry=entry).values_list("account", "amount")) == [
        ("game_house", 10_00),
        ("player_available", -10_00),
    ]
    assert house_balance(tenant.pk) == 10_00
    # and the round is open with the bet in its totals
    round_ = GameRound.objects.get(round_id="r-1")
    assert (round_.status, round_.bet_total, round_.bet_count) == (RoundStatus.OPEN, 10_00, 1)
    assert (tx.status, tx.round_id, tx.balance_after) == (TransactionStatus.APPLIED, round_.pk, 90_00)


def test_a_win_credits_the_player_and_can_close_the_round(provider, token, wallet, tenant):
    provider.bet(token, "tx-1", amount="10.00")
    response = provider.win(token, "tx-2", amount="25.50", round_closed=True)
    assert response.status_code == 200, response.content
    assert response.json()["balance"] == "115.50"
    tx = GameTransaction.objects.get(transaction_id="tx-2")
    assert JournalEntry.objects.get(game_transaction_id=tx.pk).event_type == LedgerEvent.WIN_PAID
    round_ = GameRound.objects.get(round_id="r-1")
    assert (round_.status, round_.close_reason, round_.win_total, round_.win_count) == (
        "closed",
        "round_closed",
        25_50,
        1,
    )
    assert house_balance(tenant.pk) == 10_00 - 25_50


def test_a_zero_win_settles_the_round_and_moves_nothing(provider, token, wallet):
    provider.bet(token, "tx-1", amount="10.00")
    before = books(wallet)
    response = provider.win(token, "tx-2", amount="0.00", round_closed=True)
    assert response.status_code == 200, response.content
    after = books(wallet)
    assert (after.available, after.entries, after.postings) == (before.available, before.entries, before.postings)
    assert GameTransaction.objects.get(transaction_id="tx-2").status == TransactionStatus.NO_EFFECT
    assert GameRound.objects.get(round_id="r-1").status == RoundStatus.CLOSED


def test_a_rollback_gives_the_bet_back_once(provider, token, wallet, tenant):
    provider.bet(token, "tx-1", amount="10.00")
    response = provider.rollback(token, "rb-1", "tx-1", amount="10.00")
    assert response.status_code == 200, response.content
    assert response.json()["balance"] == "100.00"
    rollback = GameTransaction.objects.get(transaction_id="rb-1")
    assert JournalEntry.objects.get(game_transaction_id=rollback.pk).event_type == LedgerEvent.BET_ROLLED_BACK
    assert house_balance(tenant.pk) == 0
    round_ = GameRound.objects.get(round_id="r-1")
    assert (round_.rolled_back_total, round_.rollback_count) == (10_00, 1)
    # a second rollback of the same bet, under another id, moves nothing
    again = provider.rollback(token, "rb-2", "tx-1", amount="10.00")
    assert again.status_code == 200
    assert again.json()["balance"] == "100.00"
    assert GameTransaction.objects.get(transaction_id="rb-2").status == TransactionStatus.NO_EFFECT
    wallet.refresh_from_db()
    assert wallet.balance_available == 100_00
