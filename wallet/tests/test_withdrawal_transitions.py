"""Every withdrawal state x every operation: allowed, same-state no-op, or refused."""

import pytest

from core.models import AuditEvent
from players.tests.factories import PlayerFactory
from wallet.errors import IllegalTransactionStateTransition
from wallet.models import Account, JournalEntry, Withdrawal, WithdrawalTransition
from wallet.services import (
    approve_withdrawal,
    cancel_withdrawal,
    mark_withdrawal_paid,
    record_payout_failed,
    record_payout_succeeded,
    reject_withdrawal,
    request_withdrawal,
    retry_payout,
    start_payout,
)

from .builders import (
    AMOUNT,
    PSP,
    REASON,
    SYSTEM,
    WITHDRAWAL_STATES,
    operator_of,
    pending_attempt,
    player_of,
    withdrawal_in_state,
)
from .factories import fund
from .invariants import assert_invariants, expect_no_change, record_effects

pytestmark = pytest.mark.django_db

# operation -> (call, the state it asks for)
OPERATIONS = {
    "approve_withdrawal": (lambda w, op: approve_withdrawal(w, actor=op, reason=REASON), "approved"),
    "reject_withdrawal": (lambda w, op: reject_withdrawal(w, actor=op, reason=REASON), "rejected"),
    "cancel_withdrawal": (lambda w, op: cancel_withdrawal(w, actor=player_of(w.player)), "canceled"),
    "start_payout": (lambda w, op: start_payout(w, actor=SYSTEM, provider="sandbox"), "payout_pending"),
    "mark_withdrawal_paid": (lambda w, op: mark_withdrawal_paid(w, actor=op, reason=REASON), "paid"),
    "retry_payout": (lambda w, op: retry_payout(w, actor=op, reason=REASON, provider="sandbox"), "payout_pending"),
}

# (operation, from state) -> (ledger events, available delta, held delta) in units of the amount.
# The balance effects are the design's table (section 3); approve/start/retry move no money.
ALLOWED = {
    ("approve_withdrawal", "requested"): ([], 0, 0),
    ("reject_withdrawal", "requested"): (["withdraw_released"], +1, -1),
    ("reject_withdrawal", "payout_failed"): (["withdraw_released"], +1, -1),
    ("cancel_withdrawal", "requested"): (["withdraw_released"], +1, -1),
    ("start_payout", "approved"): ([], 0, 0),
    ("mark_withdrawal_paid", "approved"): (["withdraw_paid"], 0, -1),
    ("retry_payout", "payout_failed"): ([], 0, 0),
}
NO_OPS = [(op, state) for op, (_, target) in OPERATIONS.items() for state in WITHDRAWAL_STATES if state == target]
ILLEGAL = [
    (op, state)
    for op, (_, target) in OPERATIONS.items()
    for state in WITHDRAWAL_STATES
    if state != target and (op, state) not in ALLOWED
]


def _ids(cases):
    return [f"{op}-from-{state}" for op, state in cases]


def test_the_matrix_covers_every_state_and_operation():
    assert len(ALLOWED) + len(NO_OPS) + len(ILLEGAL) == len(OPERATIONS) * len(WITHDRAWAL_STATES) == 42


def test_request_moves_available_to_held():
    # given a player with 100.00 available
    player = PlayerFactory()
    wallet = fund(player, 100_00)
    # when they ask to withdraw 25.00
    with record_effects(wallet) as effects:
        withdrawal = request_withdrawal(player=player, amount=AMOUNT, currency="EUR", actor=player_of(player))
    # then 25.00 moves from available to held in one withdraw_requested entry
    assert withdrawal.state == "requested"
    assert (effects.ledger, effects.available, effects.held) == (["withdraw_requested"], -AMOUNT, +AMOUNT)
    assert effects.history == [("", "requested")]
    assert effects.audit == ["withdrawal.requested"]
    entry = JournalEntry.objects.get(withdrawal=withdrawal)
    assert sorted(entry.postings.values_list("account", "amount")) == [
        (Account.PLAYER_AVAILABLE, -AMOUNT),
        (Account.PLAYER_HELD, +AMOUNT),
    ]
    assert_invariants()


@pytest.mark.parametrize(("operation", "state"), list(ALLOWED), ids=_ids(ALLOWED))
def test_allowed_transition_moves_state_and_money_once(operation, state):
    # given a withdrawal in `state`
    withdrawal = withdrawal_in_state(state)
    operator = operator_of(withdrawal.tenant)
    call, target = OPERATIONS[operation]
    events, available_sign, held_sign = ALLOWED[(operation, state)]
    # when the operation runs
    with record_effects(withdrawal.wallet) as effects:
        returned = call(withdrawal, operator)
    # then the withdrawal is in the target state with exactly the design's money effect
    withdrawal.refresh_from_db()
    assert withdrawal.state == target
    if operation.endswith("payout"):
        assert returned.withdrawal_id == withdrawal.pk  # the payout attempt it opened
    else:
        assert returned.state == target
    assert effects.ledger == events
    assert (effects.available, effects.held) == (available_sign * AMOUNT, held_sign * AMOUNT)
    assert effects.history == [(state, target)]
    expected_audit = [f"withdrawal.{target}"] + (["payout_attempt.created"] if operation.endswith("payout") else [])
    assert effects.audit == sorted(expected_audit)
    assert effects.attempts == (1 if operation.endswith("payout") else 0)
    # and the history and audit rows say who did it and why
    history = WithdrawalTransition.objects.filter(withdrawal=withdrawal).latest("id")
    audit = AuditEvent.objects.filter(action=f"withdrawal.{target}", target_id=str(withdrawal.pk)).latest("id")
    assert (audit.before_state, audit.after_state, audit.target_type) == (state, target, "withdrawal")
    assert (audit.actor_type, audit.actor_label, audit.reason) == (
        history.actor_type,
        history.actor_label,
        history.reason,
    )
    if operation in {"approve_withdrawal", "reject_withdrawal", "mark_withdrawal_paid", "retry_payout"}:
        assert (history.actor_type, history.reason) == ("operator", REASON)
        assert history.actor_user_id == operator.user_id
    assert_invariants()


@pytest.mark.parametrize(("operation", "state"), NO_OPS, ids=_ids(NO_OPS))
def test_asking_for_the_current_state_is_a_no_op(operation, state):
    # given a withdrawal already in the operation's target state
    withdrawal = withdrawal_in_state(state)
    call, _ = OPERATIONS[operation]
    # when the operation runs again
    with expect_no_change():
        returned = call(withdrawal, operator_of(withdrawal.tenant))
    # then nothing was written and the same object comes back
    withdrawal.refresh_from_db()
    assert withdrawal.state == state
    if operation.endswith("payout"):
        assert returned == pending_attempt(withdrawal)
    else:
        assert (returned.pk, returned.state) == (withdrawal.pk, state)
    assert_invariants()


@pytest.mark.parametrize(("operation", "state"), ILLEGAL, ids=_ids(ILLEGAL))
def test_any_other_transition_is_refused_and_changes_nothing(operation, state):
    # given a withdrawal in `state` the operation cannot leave
    withdrawal = withdrawal_in_state(state)
    operator = operator_of(withdrawal.tenant)
    call, target = OPERATIONS[operation]
    # when the operation is attempted, then it is refused with the contract's fields
    with expect_no_change(), pytest.raises(IllegalTransactionStateTransition) as refused:
        call(withdrawal, operator)
    error = refused.value
    assert error.error_code == "ILLEGAL_TRANSACTION_STATE_TRANSITION"
    assert error.status == 409
    assert error.problem_fields() == {"from_state": state, "to_state": target, "tx_type": "withdrawal"}
    # and the withdrawal stays where it was
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == state
    assert_invariants()


def test_psp_success_pays_a_pending_payout():
    # given a withdrawal whose payout is pending at the PSP
    withdrawal = withdrawal_in_state("payout_pending")
    # when the PSP reports success
    with record_effects(withdrawal.wallet) as effects:
        record_payout_succeeded(pending_attempt(withdrawal), actor=PSP, provider_reference="po-1")
    # then it is paid and the held money leaves the wallet
    withdrawal.refresh_from_db()
    assert withdrawal.state == "paid" and withdrawal.paid_at is not None
    assert (effects.ledger, effects.available, effects.held) == (["withdraw_paid"], 0, -AMOUNT)
    assert effects.history == [("payout_pending", "paid")]
    assert effects.audit == ["payout_attempt.succeeded", "withdrawal.paid"]
    assert_invariants()


def test_psp_failure_keeps_the_money_held():
    # given a withdrawal whose payout is pending at the PSP
    withdrawal = withdrawal_in_state("payout_pending")
    # when the PSP reports failure
    with record_effects(withdrawal.wallet) as effects:
        record_payout_failed(pending_attempt(withdrawal), actor=PSP, reason="account closed")
    # then it waits in payout_failed and no money moves
    withdrawal.refresh_from_db()
    assert withdrawal.state == "payout_failed"
    assert (effects.ledger, effects.available, effects.held) == ([], 0, 0)
    assert effects.history == [("payout_pending", "payout_failed")]
    assert effects.audit == ["payout_attempt.failed", "withdrawal.payout_failed"]
    assert withdrawal.wallet.balance_held == AMOUNT
    assert_invariants()


def test_a_full_life_keeps_a_complete_timeline():
    # given a withdrawal that failed once at the PSP and was paid on retry
    withdrawal = withdrawal_in_state("payout_failed")
    attempt = retry_payout(withdrawal, actor=operator_of(withdrawal.tenant), reason="bank is back")
    record_payout_succeeded(attempt, actor=PSP)
    # then its history is every step in order, and the books balance
    steps = list(WithdrawalTransition.objects.filter(withdrawal=withdrawal).values_list("from_state", "to_state"))
    assert steps == [
        ("", "requested"),
        ("requested", "approved"),
        ("approved", "payout_pending"),
        ("payout_pending", "payout_failed"),
        ("payout_failed", "payout_pending"),
        ("payout_pending", "paid"),
    ]
    withdrawal.wallet.refresh_from_db()
    assert (withdrawal.wallet.balance_available, withdrawal.wallet.balance_held) == (0, 0)
    assert_invariants()
