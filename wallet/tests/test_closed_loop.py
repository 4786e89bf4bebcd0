"""Closed loop (ARCHITECTURE 16): a withdrawal names one of the player's methods, which may receive up to
its net deposits plus the winnings beyond every method's net deposits; a method that cannot receive
payouts receives nothing. Decided under the wallet's lock, so concurrent requests cannot both use one
allowance. Refusals move nothing and are audited."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import NotFound, ValidationFailed
from players.tests.factories import PlayerFactory
from tenants.models import PaymentPolicy
from wallet.errors import ClosedLoopViolation
from wallet.models import PaymentMethod, Wallet, Withdrawal
from wallet.risk import NEW_PAYMENT_METHOD, SHARED_PAYMENT_METHOD
from wallet.services import reject_withdrawal, request_withdrawal

from .builders import operator_of, player_of
from .concurrency import errors_of, run_together, successes_of
from .factories import bank_account, card, fund, funded_method
from .invariants import assert_invariants, expect_no_change

pytestmark = pytest.mark.django_db

REFUSED = ("withdrawal.refused",)


def withdraw_to(player, method, amount: int, currency: str = "EUR") -> Withdrawal:
    return request_withdrawal(
        player=player, amount=amount, currency=currency, actor=player_of(player), payment_method=method
    )


@pytest.fixture
def two_methods(player):
    """A card that brought 50.00 EUR and a bank account that brought 30.00 EUR: 80.00 available."""
    return funded_method(player, 50_00, card()), funded_method(player, 30_00, bank_account())


def winnings(player, amount: int) -> None:
    """Money no payment method brought in (winnings; here a deposit the PSP named no method for)."""
    fund(player, amount)


def test_a_method_may_receive_exactly_its_net_deposits(player, two_methods):
    visa, iban = two_methods
    # when the player withdraws exactly what each method brought in
    to_visa, to_iban = withdraw_to(player, visa, 50_00), withdraw_to(player, iban, 30_00)
    # then both are requested, each with its destination, and everything is held
    assert (to_visa.payment_method_id, to_iban.payment_method_id) == (visa.pk, iban.pk)
    wallet = Wallet.objects.get(player=player)
    assert (wallet.balance_available, wallet.balance_held) == (0, 80_00)
    assert_invariants()


def test_one_cent_over_a_methods_net_deposits_is_refused_and_moves_nothing(player, two_methods):
    visa, iban = two_methods
    # when the player asks for 50.01 EUR to the card that brought 50.00
    with expect_no_change(audit_actions=REFUSED), pytest.raises(ClosedLoopViolation) as refused:
        withdraw_to(player, visa, 50_01)
    # then CLOSED_LOOP_VIOLATION says what each method may receive
    fields = refused.value.problem_fields()
    assert refused.value.status == 422 and refused.value.error_code == "CLOSED_LOOP_VIOLATION"
    assert (fields["reason"], fields["payment_method"], fields["requested"], fields["currency"]) == (
        "over_net_deposits",
        str(visa.pk),
        "50.01",
        "EUR",
    )
    assert fields["allowed"] == [
        {"payment_method": str(visa.pk), "amount": "50.00"},
        {"payment_method": str(iban.pk), "amount": "30.00"},
    ]


def test_winnings_beyond_every_methods_net_deposits_may_go_to_any_method(player, two_methods):
    visa, iban = two_methods
    winnings(player, 20_00)
    # then the card may take its 50.00 plus the 20.00 of winnings, and not a cent more
    with expect_no_change(audit_actions=REFUSED), pytest.raises(ClosedLoopViolation) as refused:
        withdraw_to(player, visa, 70_01)
    assert refused.value.problem_fields()["allowed"] == [
        {"payment_method": str(visa.pk), "amount": "70.00"},
        {"payment_method": str(iban.pk), "amount": "50.00"},
    ]
    withdraw_to(player, visa, 70_00)
    # and the bank account still gets back what it brought in
    withdraw_to(player, iban, 30_00)
    assert Wallet.objects.get(player=player).balance_available == 0


def test_once_every_method_is_paid_back_the_rest_goes_anywhere(player, two_methods):
    visa, iban = two_methods
    winnings(player, 40_00)
    withdraw_to(player, visa, 50_00)
    withdraw_to(player, iban, 30_00)
    # when the winnings go out, split between the methods
    withdraw_to(player, iban, 25_00)
    withdraw_to(player, visa, 15_00)
    # then everything left the wallet, and the methods' net deposits went negative by the winnings they took
    assert Wallet.objects.get(player=player).balance_available == 0
    assert_invariants()


def test_a_method_that_cannot_receive_payouts_is_refused_and_its_money_goes_elsewhere(player):
    # given a prepaid card that brought 40.00 and a card that brought 10.00
    prepaid = funded_method(player, 40_00, card("5200828282828210", payout_capable=False))
    visa = funded_method(player, 10_00, card())
    # when the player asks for anything to the prepaid card, then it is refused: it cannot receive payouts
    with expect_no_change(audit_actions=REFUSED), pytest.raises(ClosedLoopViolation) as refused:
        withdraw_to(player, prepaid, 1_00)
    assert refused.value.problem_fields()["reason"] == "not_payout_capable"
    assert refused.value.problem_fields()["allowed"] == [{"payment_method": str(visa.pk), "amount": "50.00"}]
    # and the prepaid card's 40.00 may go to the card with the card's own 10.00
    withdraw_to(player, visa, 50_00)


def test_with_closed_loop_off_any_payout_capable_method_takes_everything(player, two_methods):
    visa, iban = two_methods
    PaymentPolicy.objects.filter(tenant=player.tenant).update(closed_loop=False)
    prepaid = funded_method(player, 5_00, card("5200828282828210", payout_capable=False))
    # then the bank account may take all 85.00, and the prepaid card still nothing
    with pytest.raises(ClosedLoopViolation):
        withdraw_to(player, prepaid, 1_00)
    withdraw_to(player, iban, 85_00)
    assert Wallet.objects.get(player=player).balance_available == 0


def test_a_rejected_withdrawal_gives_its_method_its_allowance_back(player, two_methods):
    visa, iban = two_methods
    first = withdraw_to(player, iban, 30_00)
    with pytest.raises(ClosedLoopViolation):
        withdraw_to(player, iban, 1_00)
    # when finance rejects it, the bank account may receive its 30.00 again
    reject_withdrawal(first, actor=operator_of(player.tenant), reason="Wrong account holder")
    withdraw_to(player, iban, 30_00)


@pytest.mark.django_db(transaction=True)
def test_concurrent_withdrawals_cannot_both_use_one_allowance():
    player = PlayerFactory()
    funded_method(player, 50_00, card())
    iban = funded_method(player, 30_00, bank_account())
    # when five requests of 30.00 to the bank account (which brought 30.00) race
    outcomes = run_together(5, lambda i: withdraw_to(player, iban, 30_00))
    # then exactly one is requested and the others are refused by the closed loop
    assert len(successes_of(outcomes)) == 1
    assert all(isinstance(error, ClosedLoopViolation) for error in errors_of(outcomes))
    wallet = Wallet.objects.get(player=player)
    assert (wallet.balance_available, wallet.balance_held) == (50_00, 30_00)
    assert_invariants()


def test_a_player_with_methods_must_name_one(player, two_methods):
    with expect_no_change(), pytest.raises(ValidationFailed) as refused:
        withdraw_to(player, None, 10_00)
    assert "payment_method" in refused.value.problem_fields()["errors"]


def test_a_player_without_methods_withdraws_without_a_destination(player):
    fund(player, 10_00)
    assert withdraw_to(player, None, 10_00).payment_method_id is None


@pytest.mark.parametrize("whose", ["another player's", "another casino's", "unknown", "not an id"])
def test_a_method_that_is_not_the_players_is_not_found_alike(player, two_methods, whose):
    others = {
        "another player's": lambda: funded_method(PlayerFactory(tenant=player.tenant), 10_00, card()).pk,
        "another casino's": lambda: funded_method(PlayerFactory(), 10_00, card()).pk,
        "unknown": lambda: "0192c3d4-0000-7000-8000-00000000ffff",
        "not an id": lambda: "card-4242",
    }
    method_id = others[whose]()
    with expect_no_change(), pytest.raises(NotFound) as refused:
        withdraw_to(player, method_id, 10_00)
    assert refused.value.detail == "No such payment method."


def test_a_new_destination_is_flagged_and_an_older_one_is_not(player, two_methods):
    visa, iban = two_methods
    assert NEW_PAYMENT_METHOD in withdraw_to(player, visa, 10_00).risk_flags
    PaymentMethod.objects.filter(pk=iban.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert NEW_PAYMENT_METHOD not in withdraw_to(player, iban, 10_00).risk_flags


def test_a_card_another_player_of_the_casino_uses_is_flagged_shared(player, two_methods):
    visa, iban = two_methods
    funded_method(PlayerFactory(tenant=player.tenant), 5_00, card())  # the same fingerprint as the player's card
    funded_method(PlayerFactory(), 5_00, bank_account())  # the same account, at another casino: not shared here
    assert SHARED_PAYMENT_METHOD in withdraw_to(player, visa, 10_00).risk_flags
    assert SHARED_PAYMENT_METHOD not in withdraw_to(player, iban, 10_00).risk_flags


@pytest.fixture
def player():
    return PlayerFactory()
