"""Races on the real database: threads with their own connections, calls over HTTP."""

from contextlib import contextmanager

import pytest
from django.test import Client

from games.models import GameTransaction, TransactionStatus
from players.models import PlayerLimit
from wallet.models import JournalEntry, LedgerEvent
from wallet.tests.concurrency import run_together

from .helpers import ProviderClient, assert_problem, house_balance, money_books

pytestmark = pytest.mark.django_db(transaction=True)


def fresh(provider: ProviderClient) -> ProviderClient:
    """The same provider on a client of its own (one per thread)."""
    return ProviderClient(Client(), provider.slug, provider.secret)


def test_fifty_copies_of_one_bet_debit_once(provider, token, wallet, tenant):
    outcomes = run_together(50, lambda i: fresh(provider).bet(token, "tx-1", amount="10.00"))
    responses = [o.value for o in outcomes]
    assert [o.error for o in outcomes if o.error] == []
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1  # every copy got the first answer
    wallet.refresh_from_db()
    assert wallet.balance_available == 90_00
    assert JournalEntry.objects.filter(event_type=LedgerEvent.BET_PLACED).count() == 1
    assert GameTransaction.objects.count() == 1
    assert house_balance(tenant.pk) == 10_00


def test_concurrent_bets_cannot_both_pass_a_loss_limit_only_one_fits_in(provider, token, wallet, player):
    PlayerLimit.objects.create(
        player=player, tenant=player.tenant, currency="EUR", kind="loss", period="day", amount=30_00
    )
    outcomes = run_together(10, lambda i: fresh(provider).bet(token, f"tx-{i}", round_id=f"r-{i}", amount="5.00"))
    codes = sorted(o.value.status_code for o in outcomes)
    assert codes == [200] * 6 + [422] * 4
    refused = [o.value.json() for o in outcomes if o.value.status_code == 422]
    assert {body["error_code"] for body in refused} == {"PLAYER_LIMIT_EXCEEDED"}
    assert {body["used"] for body in refused} == {"30.00"}
    wallet.refresh_from_db()
    assert wallet.balance_available == 70_00
    assert GameTransaction.objects.filter(status=TransactionStatus.REFUSED).count() == 4


def test_a_rollback_racing_its_bet_never_leaves_money_taken(provider, token, wallet, tenant):
    pairs = 8

    def call(i):
        client = fresh(provider)
        n = i // 2
        if i % 2:
            return client.rollback(token, f"rb-{n}", f"tx-{n}", amount="1.00")
        return client.bet(token, f"tx-{n}", round_id=f"r-{n}", amount="1.00")

    outcomes = run_together(2 * pairs, call)
    assert [o.error for o in outcomes if o.error] == []
    for n in range(pairs):
        bet, rollback = outcomes[2 * n].value, outcomes[2 * n + 1].value
        assert rollback.status_code == 200
        assert bet.status_code in (200, 409), bet.content
        if bet.status_code == 409:  # the rollback came first
            assert bet.json()["error_code"] == "GAME_TRANSACTION_ROLLED_BACK"
    wallet.refresh_from_db()
    assert wallet.balance_available == 100_00
    assert house_balance(tenant.pk) == 0


def test_one_transaction_id_sent_for_two_players_at_once_moves_money_once(provider, token, wallet, tenant, game):
    from players.tests.factories import PlayerFactory
    from wallet.tests.factories import fund

    from .conftest import new_session

    other = PlayerFactory(tenant=tenant)
    theirs = fund(other, 100_00)
    tokens = [token, new_session(other, game).token]
    outcomes = run_together(2, lambda i: fresh(provider).bet(tokens[i], "same-id", round_id=f"r-{i}", amount="10.00"))
    codes = sorted(o.value.status_code for o in outcomes)
    assert codes == [200, 409], [o.value.content for o in outcomes]
    refused = next(o.value for o in outcomes if o.value.status_code == 409)
    assert refused.json()["error_code"] == "GAME_TRANSACTION_CONFLICT"
    wallet.refresh_from_db()
    theirs.refresh_from_db()
    assert wallet.balance_available + theirs.balance_available == 190_00
    assert GameTransaction.objects.count() == 1


def test_a_connection_dropped_as_the_pipelined_lock_and_read_finish_answers_503_and_moves_nothing(
    provider, token, wallet, monkeypatch
):
    # given the database ends the bet's connection while the pipelined lock and read are in flight
    # (a failover, or an administrator's pg_terminate_backend): psycopg then fails leaving pipeline
    # mode with its own error, outside Django's cursor wrappers
    import psycopg
    from django.db import connection

    real_pipeline = psycopg.Connection.pipeline

    @contextmanager
    def dropped(self):
        with real_pipeline(self):
            yield
        raise psycopg.OperationalError("cannot exit pipeline mode while busy")

    before = money_books(wallet)
    monkeypatch.setattr(psycopg.Connection, "pipeline", dropped)
    # when the provider bets
    response = provider.bet(token, "tx-1")
    monkeypatch.undo()
    connection.close()  # the dropped session; the next query opens a new one
    # then it is told to retry (503, as for any dropped connection), not a 500, and nothing moved
    assert_problem(response, 503, "SERVICE_UNAVAILABLE")
    assert money_books(wallet) == before
    assert not GameTransaction.objects.filter(transaction_id="tx-1").exists()
    # and the provider's retry of the same call is taken
    assert provider.bet(token, "tx-1").status_code == 200
