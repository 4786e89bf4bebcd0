"""Retries: the same transaction_id with the same body is answered from the first answer, byte for byte,
before any lock; with another body it is a conflict. Refused bets keep their refusal."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from games.models import GameTransaction, TransactionStatus
from players.models import PlayerLimit

from .helpers import assert_problem, books, money_books

pytestmark = pytest.mark.django_db


def statements(queries) -> list[str]:
    """What the call sent, less the savepoints the test's own transaction turns its atomic block into
    (in production: BEGIN and COMMIT, which psycopg sends without a statement of its own)."""
    return [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_the_same_bet_again_is_answered_as_the_first_time_and_moves_nothing(provider, token, wallet):
    first = provider.bet(token, "tx-1", amount="10.00")
    before = books(wallet)
    again = provider.bet(token, "tx-1", amount="10.00")
    assert again.status_code == 200
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert books(wallet) == before


def test_a_replay_reads_one_row_and_takes_no_lock(provider, token, wallet):
    provider.bet(token, "tx-1", amount="10.00")
    with CaptureQueriesContext(connection) as queries:
        assert provider.bet(token, "tx-1", amount="10.00").status_code == 200
    assert len(statements(queries)) == 1, statements(queries)
    assert "FOR UPDATE" not in statements(queries)[0]


def test_a_fresh_bet_is_four_statements(provider, token, wallet):
    provider.balance(token)  # the provider account is cached after its first call
    with CaptureQueriesContext(connection) as queries:
        assert provider.bet(token, "tx-1", amount="10.00").status_code == 200
    # the replay lookup, the wallet's lock with the player's state, the round under the lock, the writes
    assert len(statements(queries)) == 4, statements(queries)


def test_the_same_transaction_id_with_another_body_is_a_conflict(provider, token, wallet):
    provider.bet(token, "tx-1", amount="10.00")
    before = books(wallet)
    body = assert_problem(provider.bet(token, "tx-1", amount="11.00"), 409, "GAME_TRANSACTION_CONFLICT")
    assert body["transaction_id"] == "tx-1"
    # another kind of call under the same id is one too
    assert_problem(provider.win(token, "tx-1", amount="10.00"), 409, "GAME_TRANSACTION_CONFLICT")
    assert books(wallet) == before


def test_key_order_and_spacing_do_not_make_another_body(provider, token, wallet):
    first = provider.post(
        "bet",
        b'{"session_token": "%s", "transaction_id": "tx-1", "round_id": "r-1", '
        b'"amount": "10.00", "currency": "EUR"}' % token.encode(),
    )
    again = provider.post(
        "bet",
        b'{"currency":"EUR","amount":"10.00","round_id":"r-1","transaction_id":"tx-1",'
        b'"session_token":"%s"}' % token.encode(),
    )
    assert first.status_code == again.status_code == 200
    assert again.content == first.content


def test_a_refused_bet_keeps_its_refusal_when_retried_after_a_deposit(provider, token, wallet, player):
    from wallet.tests.factories import fund

    # given a bet refused for insufficient funds
    refused = provider.bet(token, "tx-1", amount="500.00")
    body = assert_problem(refused, 422, "INSUFFICIENT_FUNDS")
    assert (body["available"], body["requested"], body["currency"]) == ("100.00", "500.00", "EUR")
    stored = GameTransaction.objects.get(transaction_id="tx-1")
    assert (stored.status, stored.error_code) == (TransactionStatus.REFUSED, "INSUFFICIENT_FUNDS")
    # when the player deposits and the provider retries the same bet
    fund(player, 1000_00)
    before = money_books(wallet)
    again = provider.bet(token, "tx-1", amount="500.00")
    # then it gets the same refusal, and nothing moves
    assert again.status_code == 422
    assert again.content == refused.content
    assert money_books(wallet) == before
    # while another body under that id is a conflict
    assert_problem(provider.bet(token, "tx-1", amount="5.00"), 409, "GAME_TRANSACTION_CONFLICT")


def test_a_rollback_of_a_refused_bet_moves_nothing(provider, token, wallet):
    provider.bet(token, "tx-1", amount="500.00")
    before = money_books(wallet)
    response = provider.rollback(token, "rb-1", "tx-1", amount="500.00")
    assert response.status_code == 200
    assert response.json()["balance"] == "100.00"
    assert money_books(wallet) == before


def test_a_refused_win_is_not_kept_so_a_retry_lands_once_it_can(provider, token, wallet):
    # a win for a round whose bet has not arrived is refused, and not stored
    assert_problem(provider.win(token, "w-1", round_id="r-9", amount="5.00"), 409, "GAME_ROUND_UNKNOWN")
    assert not GameTransaction.objects.filter(transaction_id="w-1").exists()
    # once the bet is in, the retried win lands
    provider.bet(token, "b-1", round_id="r-9", amount="10.00")
    assert provider.win(token, "w-1", round_id="r-9", amount="5.00").json()["balance"] == "95.00"


def test_loss_limits_are_read_with_the_lock(provider, token, wallet, player):
    PlayerLimit.objects.create(
        player=player, tenant=player.tenant, currency="EUR", kind="loss", period="day", amount=50_00
    )
    provider.balance(token)
    with CaptureQueriesContext(connection) as queries:
        assert provider.bet(token, "tx-1", amount="10.00").status_code == 200
    # one more: the net loss in the window, counted only where a loss limit is in force
    assert len(statements(queries)) == 5, statements(queries)
