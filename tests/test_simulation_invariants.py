"""The simulation's money invariants (simulation/invariants.py) on books built through the services:
quiet on chargebacks, reversals, returned payouts and closed-loop withdrawals done right, and loud on
each one done wrong. The short simulation in test_simulation.py runs them on live traffic."""

import pytest
from django.db import connection

from players.tests.factories import PlayerFactory
from reconciliation.tests.helpers import paid_through_psp
from simulation.invariants import CHECKS
from tenants.models import PaymentPolicy
from wallet.services import (
    charge_back_deposit,
    charge_back_deposit_again,
    record_payout_returned,
    request_withdrawal,
    reverse_chargeback,
)
from wallet.tests.builders import PSP, player_of
from wallet.tests.factories import bank_account, card, deposit_with, funded_method

pytestmark = pytest.mark.django_db

MONEY_CHECKS = (
    "no_negative_balance",
    "wallet_equals_ledger",
    "receivables_equal_ledger",
    "journal_entry_balances",
    "money_conservation",
    "money_events_match_state",
    "paid_withdrawal_payout_attempts",
    "closed_loop_kept",
)


def broken(name: str) -> list[tuple]:
    """The rows breaking invariant `name` (none when it holds)."""
    check = next(check for check in CHECKS if check.name == name)
    with connection.cursor() as cursor:
        cursor.execute(check.sql)
        return cursor.fetchall()


def withdraw_to(player, method, amount: int):
    return request_withdrawal(
        player=player, amount=amount, currency="EUR", actor=player_of(player), payment_method=method
    )


@pytest.fixture
def player():
    return PlayerFactory()


def test_books_with_chargebacks_reversals_and_returns_keep_every_money_invariant(player):
    # given a deposit charged back after it was spent on a withdrawal (the player owes), another
    # charged back and reversed, one charged back again after its reversal, a payout returned by the
    # bank, and closed-loop withdrawals
    spent = deposit_with(player, 40_00, method=card())
    withdraw_to(player, spent.payment_method_id, 40_00)
    charge_back_deposit(spent, actor=PSP, reason="Fraud")
    disputed = deposit_with(player, 25_00, method=bank_account())  # repays the 40.00 owed first
    charge_back_deposit(disputed, actor=PSP, reason="Not recognised")
    reverse_chargeback(disputed, actor=PSP, reason="Dispute won")
    lost = deposit_with(player, 30_00, method=card("5555555555554444"))
    charge_back_deposit(lost, actor=PSP, reason="Fraud")
    reverse_chargeback(lost, actor=PSP, reason="Dispute won")
    withdraw_to(player, lost.payment_method_id, 10_00)  # its net deposits count again after the reversal
    charge_back_deposit_again(lost, actor=PSP, reason="Arbitration chargeback")
    _withdrawal, attempt = paid_through_psp(PlayerFactory(tenant=player.tenant))
    record_payout_returned(attempt, actor=PSP, reason="Account closed")
    # then every money invariant holds
    assert {name: broken(name) for name in MONEY_CHECKS} == {name: [] for name in MONEY_CHECKS}


def test_a_receivable_the_ledger_does_not_show_breaks_the_receivable_invariants(player):
    spent = deposit_with(player, 40_00, method=card())
    withdraw_to(player, spent.payment_method_id, 40_00)
    charge_back_deposit(spent, actor=PSP, reason="Fraud")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE wallet_wallet SET balance_receivable = balance_receivable + 1 WHERE player_id = %s", [player.pk]
        )
    assert broken("receivables_equal_ledger") and broken("wallet_equals_ledger") and broken("money_conservation")


def test_a_chargeback_without_its_money_breaks_conservation_and_the_events_per_state(player):
    deposit = deposit_with(player, 40_00, method=card())
    with connection.cursor() as cursor:
        cursor.execute("UPDATE wallet_deposit SET state = 'charged_back' WHERE id = %s", [deposit.pk])
    assert broken("money_conservation") and broken("money_events_match_state")


def test_a_withdrawal_beyond_its_methods_net_deposits_breaks_the_closed_loop(player):
    # given the closed loop off when the player sent everything to the method that brought the least
    PaymentPolicy.objects.update_or_create(tenant=player.tenant, defaults={"closed_loop": False})
    funded_method(player, 50_00, card())
    small = funded_method(player, 20_00, bank_account())
    withdraw_to(player, small, 60_00)
    assert broken("closed_loop_kept") == []  # the rule was off: nothing to keep
    # when the casino's rule is the closed loop (as the simulation's tenants always have it)
    PaymentPolicy.objects.filter(tenant=player.tenant).update(closed_loop=True)
    # then that withdrawal is reported: 60.00 to a method with 20.00 net and no winnings
    (row,) = broken("closed_loop_kept")
    assert row[0] == "closed loop broken" and "6000 EUR to a method with 2000 net" in row[2]


def test_exactly_a_methods_net_deposits_plus_the_winnings_keeps_the_closed_loop(player):
    funded_method(player, 50_00, card())
    small = funded_method(player, 20_00, bank_account())
    deposit_with(player, 10_00)  # winnings: money no method brought in
    withdraw_to(player, small, 30_00)
    assert broken("closed_loop_kept") == []


def test_a_second_chargeback_without_its_money_breaks_conservation_and_the_events_per_state(player):
    deposit = deposit_with(player, 40_00, method=card())
    charge_back_deposit(deposit, actor=PSP)
    reverse_chargeback(deposit, actor=PSP)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE wallet_deposit SET state = 'charged_back_again' WHERE id = %s", [deposit.pk])
    assert broken("money_conservation") and broken("money_events_match_state")
