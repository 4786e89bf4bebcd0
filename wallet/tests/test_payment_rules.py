"""Refusals before any money moves: amounts, currencies, suspended tenants, funds, operators' reasons."""

import pytest

from core.errors import ReviewReasonRequired, ValidationFailed
from players.tests.factories import PlayerFactory
from tenants.errors import TenantSuspended
from wallet.errors import InsufficientFunds
from wallet.services import (
    approve_withdrawal,
    cancel_withdrawal,
    complete_deposit,
    mark_withdrawal_paid,
    record_payout_failed,
    record_payout_succeeded,
    reject_withdrawal,
    retry_payout,
    start_payout,
)

from .builders import (
    AMOUNT,
    PSP,
    REASON,
    SYSTEM,
    deposit,
    deposit_in_state,
    operator_of,
    pending_attempt,
    player_of,
    set_limits,
    withdraw,
    withdrawal_in_state,
)
from .factories import fund
from .invariants import assert_invariants, expect_no_change

pytestmark = pytest.mark.django_db


MOVES = {"deposit": deposit, "withdraw": withdraw}


@pytest.fixture
def funded_player():
    player = PlayerFactory()
    fund(player, 1_000_00)
    return player


@pytest.mark.parametrize("move", MOVES)
@pytest.mark.parametrize(("amount", "allowed"), [(9_99, False), (10_00, True), (100_00, True), (100_01, False)])
def test_per_transaction_minimum_and_maximum(funded_player, move, amount, allowed):
    # given a tenant that takes 10.00 to 100.00 EUR per transaction
    set_limits(funded_player.tenant, min_amount=10_00, max_amount=100_00)
    if allowed:
        # then amounts within the bounds go through
        assert MOVES[move](funded_player, amount).amount == amount
        return
    # and amounts outside are refused as invalid, with nothing written
    with expect_no_change(), pytest.raises(ValidationFailed) as refused:
        MOVES[move](funded_player, amount)
    assert refused.value.error_code == "VALIDATION_ERROR"
    assert list(refused.value.problem_fields()["errors"]) == ["amount"]


@pytest.mark.parametrize("move", MOVES)
def test_a_currency_the_tenant_does_not_accept_is_refused(funded_player, move):
    # given a tenant that accepts only EUR and USD, when a player uses GBP, then it is refused
    with expect_no_change(), pytest.raises(ValidationFailed) as refused:
        MOVES[move](funded_player, AMOUNT, "GBP")
    assert refused.value.error_code == "VALIDATION_ERROR"
    assert list(refused.value.problem_fields()["errors"]) == ["currency"]
    assert not funded_player.wallets.filter(currency="GBP").exists()


@pytest.mark.parametrize("move", MOVES)
@pytest.mark.parametrize("amount", [0, -1_00, True, 10.0, "10.00", None])
def test_amounts_must_be_positive_whole_minor_units(funded_player, move, amount):
    with expect_no_change(), pytest.raises(ValidationFailed) as refused:
        MOVES[move](funded_player, amount)
    assert refused.value.error_code == "VALIDATION_ERROR"


def _suspend(tenant):
    tenant.status = "suspended"
    tenant.save(update_fields=["status"])


@pytest.mark.parametrize("move", MOVES)
def test_a_suspended_tenant_takes_no_new_payments(funded_player, move):
    # given a funded player whose casino was suspended
    _suspend(funded_player.tenant)
    # when they try to deposit or withdraw, then it is refused and nothing is written
    with expect_no_change(), pytest.raises(TenantSuspended) as refused:
        MOVES[move](funded_player, AMOUNT)
    assert (refused.value.error_code, refused.value.status) == ("TENANT_SUSPENDED", 403)


SUSPENDED_REFUSES = {
    "approve": ("requested", lambda w, op: approve_withdrawal(w, actor=op, reason=REASON)),
    "mark paid": ("approved", lambda w, op: mark_withdrawal_paid(w, actor=op, reason=REASON)),
    "start payout": ("approved", lambda w, op: start_payout(w, actor=SYSTEM)),
    "retry payout": ("payout_failed", lambda w, op: retry_payout(w, actor=op, reason=REASON)),
}


@pytest.mark.parametrize("name", SUSPENDED_REFUSES)
def test_a_suspended_tenant_makes_no_payouts(name):
    # given a withdrawal on its way out when the tenant is suspended
    state, call = SUSPENDED_REFUSES[name]
    withdrawal = withdrawal_in_state(state)
    _suspend(withdrawal.tenant)
    # when an operator or the scheduler tries to pay it, then it is refused
    with expect_no_change(), pytest.raises(TenantSuspended):
        call(withdrawal, operator_of(withdrawal.tenant))


SUSPENDED_STILL_RECORDS = {
    "reject": ("requested", lambda w, op: reject_withdrawal(w, actor=op, reason=REASON), "rejected"),
    "cancel": ("requested", lambda w, op: cancel_withdrawal(w, actor=player_of(w.player)), "canceled"),
    "reject after failure": ("payout_failed", lambda w, op: reject_withdrawal(w, actor=op, reason=REASON), "rejected"),
    "psp success": ("payout_pending", lambda w, op: record_payout_succeeded(pending_attempt(w), actor=PSP), "paid"),
    "psp failure": (
        "payout_pending",
        lambda w, op: record_payout_failed(pending_attempt(w), actor=PSP),
        "payout_failed",
    ),
}


@pytest.mark.parametrize("name", SUSPENDED_STILL_RECORDS)
def test_a_suspended_tenant_still_records_money_already_in_flight(name):
    state, call, target = SUSPENDED_STILL_RECORDS[name]
    withdrawal = withdrawal_in_state(state)
    _suspend(withdrawal.tenant)
    call(withdrawal, operator_of(withdrawal.tenant))
    withdrawal.refresh_from_db()
    assert withdrawal.state == target
    assert_invariants()


def test_a_suspended_tenant_still_credits_a_deposit_the_provider_took():
    deposit_ = deposit_in_state("pending_provider")
    _suspend(deposit_.tenant)
    assert complete_deposit(deposit_, actor=PSP).state == "completed"
    assert_invariants()


def test_a_withdrawal_above_the_available_balance_moves_nothing():
    # given 10.00 available and 5.00 already held
    player = PlayerFactory()
    withdrawal_in_state("requested", player=player, amount=5_00)
    fund(player, 10_00)
    # when the player asks for 10.01
    with expect_no_change(), pytest.raises(InsufficientFunds) as refused:
        withdraw(player, 10_01)
    # then it is refused with what is available
    assert (refused.value.error_code, refused.value.status) == ("INSUFFICIENT_FUNDS", 422)
    assert refused.value.problem_fields() == {"available": "10.00", "requested": "10.01", "currency": "EUR"}
    # and the whole available balance can still be withdrawn
    assert withdraw(player, 10_00).state == "requested"
    assert_invariants()


def test_a_player_without_a_wallet_has_nothing_to_withdraw():
    player = PlayerFactory()
    with expect_no_change(), pytest.raises(InsufficientFunds) as refused:
        withdraw(player, 1)
    assert refused.value.problem_fields()["available"] == "0.00"
    assert not player.wallets.exists()


OPERATOR_DECISIONS = {
    "approve": ("requested", lambda w, op, reason: approve_withdrawal(w, actor=op, reason=reason)),
    "reject": ("requested", lambda w, op, reason: reject_withdrawal(w, actor=op, reason=reason)),
    "mark paid": ("approved", lambda w, op, reason: mark_withdrawal_paid(w, actor=op, reason=reason)),
    "retry payout": ("payout_failed", lambda w, op, reason: retry_payout(w, actor=op, reason=reason)),
}


@pytest.mark.parametrize("reason", ["", "   \n"])
@pytest.mark.parametrize("decision", OPERATOR_DECISIONS)
def test_operators_must_give_a_reason(decision, reason):
    # given a withdrawal awaiting an operator's decision
    state, call = OPERATOR_DECISIONS[decision]
    withdrawal = withdrawal_in_state(state)
    # when the operator decides without a reason, then it is refused and nothing changes
    with expect_no_change(), pytest.raises(ReviewReasonRequired) as refused:
        call(withdrawal, operator_of(withdrawal.tenant), reason)
    assert (refused.value.error_code, refused.value.status) == ("REVIEW_REASON_REQUIRED", 400)


def test_an_operator_reason_is_stored_trimmed():
    withdrawal = withdrawal_in_state("requested")
    approve_withdrawal(withdrawal, actor=operator_of(withdrawal.tenant), reason="  KYC ok \n")
    assert withdrawal.transitions.latest("id").reason == "KYC ok"
