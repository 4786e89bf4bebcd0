"""Chargebacks (ARCHITECTURE 16): completed -> charged_back -> chargeback_reversed.

A chargeback debits available as far as it goes; the rest becomes the player's receivable (wallets
never go below zero), which restricts the account (no withdrawals, approvals or play) until deposits,
a released withdrawal or the reversal repay it, receivable first. Money held for a withdrawal is not
taken by the chargeback.
"""

import pytest

from players.tests.factories import PlayerFactory
from wallet import protection
from wallet.errors import IllegalTransactionStateTransition, InsufficientFunds, PlayerAccountRestricted
from wallet.models import Deposit, JournalEntry, PayoutAttempt, Posting, Wallet
from wallet.services import (
    approve_withdrawal,
    charge_back_deposit,
    mark_withdrawal_paid,
    reject_withdrawal,
    request_withdrawal,
    retry_payout,
    reverse_chargeback,
)

from .builders import PSP, REASON, deposit_in_state, operator_of, player_of, withdrawal_in_state
from .concurrency import errors_of, run_together, successes_of
from .factories import card, deposit_with, fund
from .invariants import assert_invariants, expect_no_change, record_effects

pytestmark = pytest.mark.django_db


@pytest.fixture
def player():
    return PlayerFactory()


def wallet_of(player) -> Wallet:
    return Wallet.objects.get(player=player, currency="EUR")


def balances(player) -> tuple[int, int, int]:
    """(available, held, receivable) in minor units."""
    wallet = wallet_of(player)
    return wallet.balance_available, wallet.balance_held, wallet.balance_receivable


def legs(deposit, event: str) -> dict[str, int]:
    entry = JournalEntry.objects.get(deposit=deposit, event_type=event)
    return dict(Posting.objects.filter(entry=entry).values_list("account", "amount"))


def withdraw(player, amount: int):
    method = Deposit.objects.filter(player=player).exclude(payment_method=None).first()
    return request_withdrawal(
        player=player,
        amount=amount,
        currency="EUR",
        actor=player_of(player),
        payment_method=method.payment_method_id if method else None,
    )


def test_a_chargeback_on_a_wallet_with_enough_is_debited_from_available(player):
    # given a deposit of 100.00 by card, and 50.00 more from another deposit
    disputed = deposit_with(player, 100_00, method=card())
    fund(player, 50_00)
    # when the card holder's chargeback arrives
    with record_effects(wallet_of(player)) as effects:
        charge_back_deposit(disputed, actor=PSP, reason="Fraudulent transaction")
    # then the deposit is charged back, 100.00 left available, nothing is owed and the account is free
    assert Deposit.objects.get(pk=disputed.pk).state == "charged_back"
    assert (effects.ledger, effects.history) == (["deposit_charged_back"], [("completed", "charged_back")])
    assert effects.audit == ["deposit.charged_back"]
    assert balances(player) == (50_00, 0, 0)
    assert legs(disputed, "deposit_charged_back") == {"player_available": -100_00, "psp_clearing": 100_00}
    protection.ensure_not_restricted(player)
    assert_invariants()


def test_what_available_cannot_cover_becomes_a_receivable_that_restricts_the_account(player):
    # given a deposit of 100.00, of which 70.00 was withdrawn and paid
    disputed = deposit_with(player, 100_00, method=card())
    paid = withdraw(player, 70_00)
    approve_withdrawal(paid, actor=operator_of(player.tenant), reason=REASON)
    mark_withdrawal_paid(paid, actor=operator_of(player.tenant), reason=REASON)
    # when the deposit is charged back
    charge_back_deposit(disputed, actor=PSP)
    # then the 30.00 available are taken and the player owes the other 70.00; no wallet goes below zero
    assert balances(player) == (0, 0, 70_00)
    assert legs(disputed, "deposit_charged_back") == {
        "player_available": -30_00,
        "player_receivable": -70_00,
        "psp_clearing": 100_00,
    }
    # and the account is restricted: a withdrawal is refused 403, moves nothing, and is audited
    with expect_no_change(audit_actions=("withdrawal.refused",)), pytest.raises(PlayerAccountRestricted) as refused:
        withdraw(player, 1_00)
    assert refused.value.status == 403 and refused.value.error_code == "PLAYER_ACCOUNT_RESTRICTED"
    assert refused.value.problem_fields() == {
        "reason": "receivable",
        "receivables": [{"currency": "EUR", "amount": "70.00"}],
    }
    assert_invariants()


def test_new_deposits_repay_the_receivable_first(player):
    disputed = deposit_with(player, 100_00, method=card())
    paid = withdraw(player, 100_00)
    approve_withdrawal(paid, actor=operator_of(player.tenant), reason=REASON)
    mark_withdrawal_paid(paid, actor=operator_of(player.tenant), reason=REASON)
    charge_back_deposit(disputed, actor=PSP)
    assert balances(player) == (0, 0, 100_00)
    # when the player deposits 60.00: all of it repays
    first = deposit_with(player, 60_00, method=card())
    assert balances(player) == (0, 0, 40_00)
    assert legs(first, "deposit_completed") == {"player_receivable": 60_00, "psp_clearing": -60_00}
    # when the player deposits 50.00: 40.00 repays, 10.00 is available, and the restriction is lifted
    second = deposit_with(player, 50_00, method=card())
    assert balances(player) == (10_00, 0, 0)
    assert legs(second, "deposit_completed") == {
        "player_available": 10_00,
        "player_receivable": 40_00,
        "psp_clearing": -50_00,
    }
    protection.ensure_not_restricted(player)
    assert_invariants()


def test_money_held_for_a_withdrawal_stays_held_and_rejecting_it_repays_the_receivable(player):
    # given a deposit of 100.00 and a withdrawal of 80.00 awaiting review (80.00 held, 20.00 available)
    disputed = deposit_with(player, 100_00, method=card())
    waiting = withdraw(player, 80_00)
    # when the deposit is charged back
    charge_back_deposit(disputed, actor=PSP)
    # then only available is taken: the held 80.00 stays with its withdrawal, and 80.00 is owed
    assert balances(player) == (0, 80_00, 80_00)
    # and finance cannot approve or pay it while the player owes the casino
    finance = operator_of(player.tenant)
    with expect_no_change(), pytest.raises(PlayerAccountRestricted):
        approve_withdrawal(waiting, actor=finance, reason=REASON)
    # when finance rejects it, the released money repays the receivable first
    with record_effects(wallet_of(player)) as effects:
        reject_withdrawal(waiting, actor=finance, reason="Chargeback on the deposit")
    assert effects.ledger == ["withdraw_released"]
    assert balances(player) == (0, 0, 0)
    protection.ensure_not_restricted(player)
    assert_invariants()


def test_a_failed_payout_is_not_sent_again_while_the_player_owes(player):
    # given a withdrawal whose payout failed (its 25.00 still held here), then a chargeback of the
    # deposit that funded it: the player owes 25.00
    failed = withdrawal_in_state("payout_failed", player=player)
    disputed = Deposit.objects.get(player=player)
    charge_back_deposit(disputed, actor=PSP)
    assert balances(player) == (0, failed.amount, failed.amount)
    # when finance (or the automatic retry) tries the payout again, it is refused, audited, nothing moves
    finance = operator_of(player.tenant)
    with expect_no_change(audit_actions=("payout.retry_refused",)), pytest.raises(PlayerAccountRestricted):
        retry_payout(failed, actor=finance, reason=REASON)
    assert not PayoutAttempt.objects.filter(withdrawal=failed, status="pending").exists()
    # and rejecting it releases the held money, which repays what is owed
    reject_withdrawal(failed, actor=finance, reason="Chargeback on the deposit")
    assert balances(player) == (0, 0, 0)
    assert_invariants()


def test_a_reversal_credits_back_receivable_first(player):
    disputed = deposit_with(player, 100_00, method=card())
    waiting = withdraw(player, 70_00)
    approve_withdrawal(waiting, actor=operator_of(player.tenant), reason=REASON)
    mark_withdrawal_paid(waiting, actor=operator_of(player.tenant), reason=REASON)
    charge_back_deposit(disputed, actor=PSP)
    assert balances(player) == (0, 0, 70_00)
    # when the casino wins the dispute
    with record_effects(wallet_of(player)) as effects:
        reverse_chargeback(disputed, actor=PSP, reason="Dispute won")
    # then the 100.00 come back: 70.00 settle what was owed, 30.00 are available again
    assert Deposit.objects.get(pk=disputed.pk).state == "chargeback_reversed"
    assert effects.history == [("charged_back", "chargeback_reversed")]
    assert balances(player) == (30_00, 0, 0)
    assert legs(disputed, "chargeback_reversed") == {
        "player_available": 30_00,
        "player_receivable": 70_00,
        "psp_clearing": -100_00,
    }
    assert_invariants()


def test_the_dispute_machine_refuses_what_it_does_not_allow_and_repeats_nothing(player):
    completed = deposit_with(player, 10_00)
    pending = deposit_in_state("pending_provider", player=player)
    # a deposit not completed cannot be charged back; a completed one cannot be reversed
    with expect_no_change(), pytest.raises(IllegalTransactionStateTransition) as illegal:
        charge_back_deposit(pending, actor=PSP)
    assert (illegal.value.from_state, illegal.value.to_state) == ("pending_provider", "charged_back")
    with expect_no_change(), pytest.raises(IllegalTransactionStateTransition):
        reverse_chargeback(completed, actor=PSP)
    # the state it is already in is a no-op, and a reversed deposit is never charged back again
    charge_back_deposit(completed, actor=PSP)
    with expect_no_change():
        charge_back_deposit(completed, actor=PSP)
    reverse_chargeback(completed, actor=PSP)
    with expect_no_change():
        reverse_chargeback(completed, actor=PSP)
    with expect_no_change(), pytest.raises(IllegalTransactionStateTransition):
        charge_back_deposit(completed, actor=PSP)
    assert_invariants()


@pytest.mark.django_db(transaction=True)
def test_racing_chargebacks_of_one_deposit_debit_it_once():
    player = PlayerFactory()
    disputed = deposit_with(player, 40_00, method=card())
    outcomes = run_together(6, lambda i: charge_back_deposit(disputed.pk, actor=PSP))
    assert errors_of(outcomes) == [] and len(successes_of(outcomes)) == 6
    assert JournalEntry.objects.filter(deposit=disputed, event_type="deposit_charged_back").count() == 1
    assert balances(player) == (0, 0, 0)
    assert_invariants()


@pytest.mark.django_db(transaction=True)
def test_a_chargeback_racing_a_withdrawal_never_takes_a_wallet_below_zero():
    player = PlayerFactory()
    disputed = deposit_with(player, 50_00, method=card())

    def act(i):
        return charge_back_deposit(disputed.pk, actor=PSP) if i == 0 else withdraw(player, 50_00)

    outcomes = run_together(2, act)
    available, held, owed = balances(player)
    # whichever came first: the withdrawal held 50.00 and the chargeback left 50.00 owed, or the
    # chargeback took the 50.00 and the withdrawal found nothing available
    assert (available, held, owed) in ((0, 50_00, 50_00), (0, 0, 0))
    expected_errors = [] if held else [InsufficientFunds]
    assert [type(e) for e in errors_of(outcomes)] == expected_errors
    assert_invariants()
