"""The ledger: balanced entries, append-only tables, money events at most once, no negative wallets."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F

from core.models import AuditEvent
from core.unit_of_work import UnitOfWork
from players.tests.factories import PlayerFactory
from wallet.ledger import post_money_event
from wallet.models import (
    DepositTransition,
    JournalEntry,
    LedgerEvent,
    Posting,
    Wallet,
    Withdrawal,
    WithdrawalTransition,
)

from .builders import AMOUNT, DEPOSIT_STATES, WITHDRAWAL_STATES, deposit_in_state, withdrawal_in_state
from .factories import fund
from .invariants import assert_books_balance, assert_invariants, expect_no_change

pytestmark = pytest.mark.django_db


def _sql(statement: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def _clearing_and_holdings(tenant_id: int, currency: str) -> tuple[int, int]:
    (clearing,) = _sql(
        "SELECT COALESCE(SUM(amount), 0) FROM wallet_posting p JOIN wallet_journalentry e ON e.id = p.entry_id"
        " WHERE p.account = 'psp_clearing' AND e.tenant_id = %s AND e.currency = %s",
        [tenant_id, currency],
    )[0]
    (held_by_players,) = _sql(
        "SELECT COALESCE(SUM(balance_available + balance_held), 0) FROM wallet_wallet"
        " WHERE tenant_id = %s AND currency = %s",
        [tenant_id, currency],
    )[0]
    return clearing, held_by_players


def test_books_balance_after_every_kind_of_event():
    # given one player with a withdrawal in every state and a deposit in every state, in two currencies
    player = PlayerFactory()
    for currency in ("EUR", "USD"):
        for state in WITHDRAWAL_STATES:
            withdrawal_in_state(state, player=player, currency=currency)
        for state in DEPOSIT_STATES:
            deposit_in_state(state, player=player, currency=currency)
    # then every entry balances and the wallets are exactly their postings
    assert_invariants()
    # and PSP clearing is minus what the players hold: completed deposits minus paid withdrawals
    for currency in ("EUR", "USD"):
        clearing, holdings = _clearing_and_holdings(player.tenant_id, currency)
        assert clearing == -holdings
        # 7 funding deposits and 1 completed deposit in, 1 withdrawal paid out
        assert holdings == (7 + 1 - 1) * AMOUNT


def test_the_check_notices_a_wallet_that_drifted_from_its_ledger():
    # given a funded wallet whose cached balance is changed behind the ledger's back
    wallet = fund(PlayerFactory(), AMOUNT)
    Wallet.objects.filter(pk=wallet.pk).update(balance_available=F("balance_available") + 1)
    # then the invariant check fails
    with pytest.raises(AssertionError, match="differ from their ledger"):
        assert_books_balance()


APPEND_ONLY = [JournalEntry, Posting, AuditEvent, DepositTransition, WithdrawalTransition]


@pytest.mark.parametrize("model", APPEND_ONLY, ids=lambda m: m.__name__)
@pytest.mark.parametrize("statement", ["UPDATE {table} SET id = id WHERE id = %s", "DELETE FROM {table} WHERE id = %s"])
def test_the_database_refuses_to_rewrite_history(model, statement):
    # given rows in every append-only table (a paid withdrawal has ledger, history and audit rows)
    withdrawal_in_state("paid")
    row = model.objects.order_by("id").first()
    table = model._meta.db_table
    # when raw SQL tries to update or delete one, then the database itself refuses
    with expect_no_change(), pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        _sql(statement.format(table=table), [row.pk])
    assert model.objects.filter(pk=row.pk).exists()


def test_the_orm_cannot_rewrite_history_either():
    withdrawal_in_state("canceled")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.update(reason="nothing to see here")
    with pytest.raises(DatabaseError), transaction.atomic():
        Posting.objects.all().delete()
    assert_invariants()


def _insert_entry(wallet, *, amounts: dict[str, int]) -> int:
    """Write a journal entry with the given postings by raw SQL, as a buggy writer might."""
    deposit = deposit_in_state("pending_provider", player=wallet.player)
    ((entry_id,),) = _sql(
        "INSERT INTO wallet_journalentry (tenant_id, currency, event_type, deposit_id, created_at)"
        " VALUES (%s, 'EUR', 'deposit_completed', %s, now()) RETURNING id",
        [wallet.tenant_id, deposit.pk],
    )
    for account, amount in amounts.items():
        _sql(
            "INSERT INTO wallet_posting (entry_id, tenant_id, account, wallet_id, amount) VALUES (%s, %s, %s, %s, %s)",
            [entry_id, wallet.tenant_id, account, None if account == "psp_clearing" else wallet.pk, amount],
        )
    return entry_id


def test_an_unbalanced_entry_is_refused():
    # given an entry with a single posting, written by raw SQL
    wallet = fund(PlayerFactory(), AMOUNT)
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        _insert_entry(wallet, amounts={"player_available": AMOUNT})
        # when the deferred balance check runs (it would at commit), then the entry is refused
        _sql("SET CONSTRAINTS ALL IMMEDIATE")
    _sql("SET CONSTRAINTS ALL DEFERRED")
    assert_invariants()


def test_a_balanced_entry_passes_the_same_check():
    # given a balanced two-legged entry written the same way (control for the test above)
    wallet = fund(PlayerFactory(), AMOUNT)
    entry_id = _insert_entry(wallet, amounts={"player_available": AMOUNT, "psp_clearing": -AMOUNT})
    # then the deferred check accepts it
    _sql("SET CONSTRAINTS ALL IMMEDIATE")
    _sql("SET CONSTRAINTS ALL DEFERRED")
    assert Posting.objects.filter(entry_id=entry_id).count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_unbalanced_entry_cannot_be_committed():
    # given an unbalanced entry inside a real transaction
    wallet = fund(PlayerFactory(), AMOUNT)
    entries = JournalEntry.objects.count()
    # when the transaction commits, then the deferred trigger refuses it and it rolls back
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        _insert_entry(wallet, amounts={"player_available": AMOUNT, "psp_clearing": -AMOUNT + 1})
    assert JournalEntry.objects.count() == entries
    assert_invariants()


def post_now(**event) -> None:
    """Post one money event through a unit of work of its own, as a careless service might."""
    uow = UnitOfWork()
    post_money_event(**event, uow=uow)
    uow.flush()


@pytest.mark.parametrize(
    ("state", "event"), [("paid", LedgerEvent.WITHDRAW_PAID), ("canceled", LedgerEvent.WITHDRAW_RELEASED)]
)
def test_a_withdrawal_money_event_happens_at_most_once(state, event):
    # given a withdrawal whose money event was written
    withdrawal = withdrawal_in_state(state, amount=AMOUNT)
    withdrawal_in_state("requested", player=withdrawal.player)  # money held, so only uniqueness can refuse
    # when something tries to write the same event for it again, then the unique constraint refuses
    wallet = Wallet.objects.get(pk=withdrawal.wallet_id)
    refused = pytest.raises(IntegrityError, match="journal_event_once_per_withdrawal")
    with expect_no_change(), refused, transaction.atomic():
        post_now(wallet=wallet, event_type=event, source=withdrawal)
    assert_invariants()


def test_a_deposit_is_credited_at_most_once():
    deposit = deposit_in_state("completed")
    wallet = Wallet.objects.get(pk=deposit.wallet_id)
    refused = pytest.raises(IntegrityError, match="journal_event_once_per_deposit")
    with expect_no_change(), refused, transaction.atomic():
        post_now(wallet=wallet, event_type=LedgerEvent.DEPOSIT_COMPLETED, source=deposit)
    assert_invariants()


@pytest.mark.parametrize("field", ["balance_available", "balance_held"])
def test_wallet_balances_cannot_go_negative(field):
    # given a funded wallet with money held
    wallet = withdrawal_in_state("requested", amount=AMOUNT).wallet
    # when anything tries to push a balance below zero, then the CHECK constraint refuses
    with expect_no_change(), pytest.raises(IntegrityError, match="nonnegative"), transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(**{field: F(field) - AMOUNT - 1})


def test_the_ledger_cannot_overdraw_a_wallet_even_if_a_service_forgot_to_check():
    # given a wallet whose whole balance is already held, and a withdrawal row that skipped the funds check
    held = withdrawal_in_state("requested", amount=AMOUNT)
    wallet = Wallet.objects.get(pk=held.wallet_id)
    refused = pytest.raises(IntegrityError, match="wallet_available_nonnegative")
    with expect_no_change(), refused, transaction.atomic():
        unchecked = Withdrawal.objects.create(
            tenant=wallet.tenant, player=wallet.player, wallet=wallet, amount=1, currency="EUR"
        )
        # when its withdraw_requested is posted, then the wallet CHECK constraint refuses it
        post_now(wallet=wallet, event_type=LedgerEvent.WITHDRAW_REQUESTED, source=unchecked)
