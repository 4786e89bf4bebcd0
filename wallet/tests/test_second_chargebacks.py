"""A second chargeback (ARCHITECTURE 16, extended): after the casino won a dispute the card holder's
bank may dispute again (Mastercard's arbitration chargeback, Adyen's SECOND_CHARGEBACK). The money
goes out again as the first time (available as far as it goes, the rest owed), and that is final:
chargeback_reversed -> charged_back_again."""

import pytest

from players.tests.factories import PlayerFactory
from wallet import protection
from wallet.errors import IllegalTransactionStateTransition, PlayerAccountRestricted
from wallet.models import Deposit, JournalEntry, Posting, Wallet
from wallet.services import (
    approve_withdrawal,
    charge_back_deposit,
    charge_back_deposit_again,
    mark_withdrawal_paid,
    request_withdrawal,
    reverse_chargeback,
)

from .builders import PSP, REASON, operator_of, player_of
from .concurrency import errors_of, run_together, successes_of
from .factories import card, deposit_with, fund
from .invariants import assert_invariants, expect_no_change, record_effects

pytestmark = pytest.mark.django_db


@pytest.fixture
def player():
    return PlayerFactory()


def balances(player) -> tuple[int, int, int]:
    wallet = Wallet.objects.get(player=player, currency="EUR")
    return wallet.balance_available, wallet.balance_held, wallet.balance_receivable


def won_dispute(player, amount: int):
    """A card deposit of `amount`, charged back and reversed: the casino won the first round."""
    deposit = deposit_with(player, amount, method=card())
    charge_back_deposit(deposit, actor=PSP)
    reverse_chargeback(deposit, actor=PSP)
    return deposit


def test_a_second_chargeback_takes_the_money_again_and_is_recorded_once(player):
    # given 100.00 deposited, charged back and won back, and 20.00 more from another deposit
    deposit = won_dispute(player, 100_00)
    fund(player, 20_00)
    assert balances(player) == (120_00, 0, 0)
    # when the card holder's bank disputes again
    with record_effects(Wallet.objects.get(player=player, currency="EUR")) as effects:
        charge_back_deposit_again(deposit, actor=PSP, reason="Arbitration chargeback")
    # then the deposit is charged back again (final), 100.00 leave available, nothing is owed
    assert Deposit.objects.get(pk=deposit.pk).state == "charged_back_again"
    assert effects.ledger == ["deposit_charged_back_again"]
    assert effects.history == [("chargeback_reversed", "charged_back_again")]
    assert effects.audit == ["deposit.charged_back_again"]
    assert balances(player) == (20_00, 0, 0)
    entry = JournalEntry.objects.get(deposit=deposit, event_type="deposit_charged_back_again")
    assert dict(Posting.objects.filter(entry=entry).values_list("account", "amount")) == {
        "player_available": -100_00,
        "psp_clearing": 100_00,
    }
    protection.ensure_not_restricted(player)
    assert_invariants()


def test_a_second_chargeback_of_money_already_paid_out_leaves_the_player_owing(player):
    # given the won-back 100.00, of which 70.00 were withdrawn and paid since
    deposit = won_dispute(player, 100_00)
    withdrawal = request_withdrawal(
        player=player, amount=70_00, currency="EUR", actor=player_of(player), payment_method=deposit.payment_method_id
    )
    approve_withdrawal(withdrawal, actor=operator_of(player.tenant), reason=REASON)
    mark_withdrawal_paid(withdrawal, actor=operator_of(player.tenant), reason=REASON)
    # when the second chargeback arrives
    charge_back_deposit_again(deposit, actor=PSP)
    # then 30.00 are taken from available and 70.00 are owed: the account is restricted
    assert balances(player) == (0, 0, 70_00)
    with pytest.raises(PlayerAccountRestricted):
        protection.ensure_not_restricted(player)
    # and the next deposit repays it first
    fund(player, 50_00)
    assert balances(player) == (0, 0, 20_00)
    assert_invariants()


def test_only_a_reversed_chargeback_can_be_charged_back_again_and_only_once(player):
    completed = deposit_with(player, 10_00)
    charged = deposit_with(player, 20_00)
    charge_back_deposit(charged, actor=PSP)
    # a deposit never charged back, or charged back and not reversed, cannot be charged back again
    for deposit in (completed, charged):
        with expect_no_change(), pytest.raises(IllegalTransactionStateTransition) as illegal:
            charge_back_deposit_again(deposit, actor=PSP)
        assert illegal.value.to_state == "charged_back_again"
    # once charged back again: asking again is a no-op, and it is final (no further reversal)
    again = won_dispute(player, 30_00)
    charge_back_deposit_again(again, actor=PSP)
    with expect_no_change():
        charge_back_deposit_again(again, actor=PSP)
    with expect_no_change(), pytest.raises(IllegalTransactionStateTransition):
        reverse_chargeback(again, actor=PSP)
    assert JournalEntry.objects.filter(deposit=again, event_type="deposit_charged_back_again").count() == 1
    assert_invariants()


@pytest.mark.django_db(transaction=True)
def test_racing_second_chargebacks_of_one_deposit_debit_it_once():
    player = PlayerFactory()
    deposit = won_dispute(player, 40_00)
    fund(player, 10_00)
    outcomes = run_together(6, lambda i: charge_back_deposit_again(deposit.pk, actor=PSP))
    assert errors_of(outcomes) == [] and len(successes_of(outcomes)) == 6  # the later ones are no-ops
    assert balances(player) == (10_00, 0, 0)
    assert JournalEntry.objects.filter(deposit=deposit, event_type="deposit_charged_back_again").count() == 1
    assert_invariants()
