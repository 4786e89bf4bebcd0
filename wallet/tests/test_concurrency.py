"""Races on real PostgreSQL: row locks make every money event happen once and limits hold."""

import threading

import pytest
from django.db import connection, transaction

from core.models import AuditEvent
from players.tests.factories import PlayerFactory
from wallet.errors import (
    IllegalTransactionStateTransition,
    InsufficientFunds,
    TenantPaymentLimitExceeded,
)
from wallet.models import Deposit, JournalEntry, PayoutAttempt, Wallet, Withdrawal, WithdrawalTransition
from wallet.services import (
    approve_withdrawal,
    cancel_withdrawal,
    mark_withdrawal_paid,
    record_payout_succeeded,
    start_payout,
)

from .builders import (
    AMOUNT,
    PSP,
    REASON,
    SYSTEM,
    deposit,
    operator_of,
    pending_attempt,
    player_of,
    set_limits,
    withdraw,
    withdrawal_in_state,
)
from .concurrency import errors_of, run_together, successes_of
from .factories import fund
from .invariants import assert_invariants

pytestmark = pytest.mark.django_db(transaction=True)


def _balances(wallet_id) -> tuple[int, int]:
    wallet = Wallet.objects.get(pk=wallet_id)
    return wallet.balance_available, wallet.balance_held


def test_twenty_operators_marking_one_withdrawal_paid_pay_it_once():
    # given an approved withdrawal of the player's whole balance
    withdrawal = withdrawal_in_state("approved")
    operator = operator_of(withdrawal.tenant)
    # when 20 requests mark it paid at the same moment
    outcomes = run_together(20, lambda i: mark_withdrawal_paid(withdrawal.pk, actor=operator, reason=REASON))
    # then all of them see it paid, but the money left once
    assert errors_of(outcomes) == []
    assert {w.state for w in successes_of(outcomes)} == {"paid"}
    assert JournalEntry.objects.filter(withdrawal=withdrawal, event_type="withdraw_paid").count() == 1
    assert WithdrawalTransition.objects.filter(withdrawal=withdrawal, to_state="paid").count() == 1
    assert AuditEvent.objects.filter(action="withdrawal.paid").count() == 1
    assert _balances(withdrawal.wallet_id) == (0, 0)
    assert_invariants()


def test_twenty_reports_of_one_payout_success_pay_it_once():
    # given a payout pending at the PSP
    withdrawal = withdrawal_in_state("payout_pending")
    attempt = pending_attempt(withdrawal)
    # when the PSP's success arrives 20 times at once (webhook retries, poller, worker)
    outcomes = run_together(20, lambda i: record_payout_succeeded(attempt.pk, actor=PSP, provider_reference="po-1"))
    # then it is recorded once
    assert errors_of(outcomes) == []
    assert JournalEntry.objects.filter(withdrawal=withdrawal, event_type="withdraw_paid").count() == 1
    assert AuditEvent.objects.filter(action="payout_attempt.succeeded").count() == 1
    assert PayoutAttempt.objects.get(pk=attempt.pk).status == "succeeded"
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "paid"
    assert _balances(withdrawal.wallet_id) == (0, 0)
    assert_invariants()


def test_ten_workers_starting_one_payout_open_one_attempt():
    withdrawal = withdrawal_in_state("approved")
    outcomes = run_together(10, lambda i: start_payout(withdrawal.pk, actor=SYSTEM, provider="sandbox"))
    assert errors_of(outcomes) == []
    assert {attempt.pk for attempt in successes_of(outcomes)} == {PayoutAttempt.objects.get(withdrawal=withdrawal).pk}


def test_twenty_withdrawals_against_funds_for_ten():
    # given a wallet holding exactly ten withdrawals' worth
    player = PlayerFactory()
    wallet = fund(player, 10 * AMOUNT)
    # when 20 withdrawals are requested at once
    outcomes = run_together(20, lambda i: withdraw(player, AMOUNT))
    # then exactly ten pass, the others are told the funds are gone, and nothing went below zero
    errors = errors_of(outcomes)
    assert len(successes_of(outcomes)) == 10
    assert len(errors) == 10 and all(isinstance(error, InsufficientFunds) for error in errors)
    assert _balances(wallet.pk) == (0, 10 * AMOUNT)
    assert Withdrawal.objects.filter(wallet=wallet).count() == 10
    assert_invariants()


def test_two_withdrawals_against_a_daily_limit_that_fits_one():
    # given a player with funds for two withdrawals and a daily limit for one
    player = PlayerFactory()
    set_limits(player.tenant, daily_withdraw_limit=AMOUNT)
    wallet = fund(player, 2 * AMOUNT)
    # when both are requested at once
    outcomes = run_together(2, lambda i: withdraw(player, AMOUNT))
    # then one passes and the other is refused by the limit, and the refusal is committed to the audit trail
    (error,) = errors_of(outcomes)
    assert isinstance(error, TenantPaymentLimitExceeded)
    assert (error.used, error.limit) == (AMOUNT, AMOUNT)
    assert len(successes_of(outcomes)) == 1
    assert AuditEvent.objects.filter(action="limit.refused").count() == 1
    assert _balances(wallet.pk) == (AMOUNT, AMOUNT)
    assert_invariants()


def test_ten_deposits_against_a_daily_limit_that_fits_three():
    player = PlayerFactory()
    set_limits(player.tenant, daily_deposit_limit=3 * AMOUNT)
    outcomes = run_together(10, lambda i: deposit(player, AMOUNT))
    assert len(successes_of(outcomes)) == 3
    assert all(isinstance(error, TenantPaymentLimitExceeded) for error in errors_of(outcomes))
    assert Deposit.objects.filter(player=player).count() == 3
    assert AuditEvent.objects.filter(action="limit.refused").count() == 7


def test_ten_first_deposits_create_one_wallet():
    # given a player without a wallet
    player = PlayerFactory()
    # when ten deposits are opened at once
    outcomes = run_together(10, lambda i: deposit(player, AMOUNT))
    # then all are created, in one shared wallet
    assert errors_of(outcomes) == []
    (wallet,) = Wallet.objects.filter(player=player)
    assert {d.wallet_id for d in successes_of(outcomes)} == {wallet.pk}
    assert Deposit.objects.filter(wallet=wallet, state="created").count() == 10
    assert_invariants()


def test_a_cancel_racing_an_approval_has_one_winner():
    # given a requested withdrawal
    withdrawal = withdrawal_in_state("requested")
    operator = operator_of(withdrawal.tenant)
    calls = [
        lambda: cancel_withdrawal(withdrawal.pk, actor=player_of(withdrawal.player)),
        lambda: approve_withdrawal(withdrawal.pk, actor=operator, reason=REASON),
    ]
    # when the player cancels while an operator approves
    outcomes = run_together(2, lambda i: calls[i]())
    # then exactly one of them happened, the other was refused, and the money is where the winner put it
    (error,) = errors_of(outcomes)
    assert isinstance(error, IllegalTransactionStateTransition)
    state = Withdrawal.objects.get(pk=withdrawal.pk).state
    assert state in {"canceled", "approved"}
    assert _balances(withdrawal.wallet_id) == ((AMOUNT, 0) if state == "canceled" else (0, AMOUNT))
    assert_invariants()


def test_payments_of_different_players_of_one_tenant_do_not_wait_for_each_other():
    # given two players of one casino, and a withdrawal of the first still in its open transaction
    first = PlayerFactory()
    second = PlayerFactory(tenant=first.tenant)
    fund(first, AMOUNT)
    holding, release = threading.Event(), threading.Event()

    def slow_withdrawal():
        try:
            with transaction.atomic():
                withdraw(first, AMOUNT)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=slow_withdrawal)
    holder.start()
    try:
        assert holding.wait(timeout=30)
        # when the second player deposits meanwhile, then it does not queue behind the first player's locks
        with transaction.atomic():
            connection.cursor().execute("SET LOCAL lock_timeout = '2s'")
            opened = deposit(second, AMOUNT)
        assert opened.state == "created"
    finally:
        release.set()
        holder.join(timeout=30)
    assert_invariants()
