"""Every deposit state x every operation: allowed, same-state no-op, or refused."""

import pytest

from core.models import AuditEvent
from players.tests.factories import PlayerFactory
from wallet.errors import IllegalTransactionStateTransition
from wallet.models import Account, Deposit, DepositTransition, JournalEntry, Wallet
from wallet.services import complete_deposit, create_deposit, fail_deposit, mark_deposit_pending

from .builders import AMOUNT, DEPOSIT_STATES, PSP, deposit_in_state, player_of
from .invariants import assert_invariants, expect_no_change, record_effects

pytestmark = pytest.mark.django_db

OPERATIONS = {
    "mark_deposit_pending": (
        lambda d: mark_deposit_pending(d, actor=PSP, provider_reference=f"psp-{d.pk}"),
        "pending_provider",
    ),
    "complete_deposit": (lambda d: complete_deposit(d, actor=PSP), "completed"),
    "fail_deposit": (lambda d: fail_deposit(d, actor=PSP, reason="card declined"), "failed"),
}
# (operation, from state) -> (ledger events, available delta in amounts)
ALLOWED = {
    ("mark_deposit_pending", "created"): ([], 0),
    ("complete_deposit", "pending_provider"): (["deposit_completed"], +1),
    ("fail_deposit", "pending_provider"): ([], 0),
}
NO_OPS = [(op, state) for op, (_, target) in OPERATIONS.items() for state in DEPOSIT_STATES if state == target]
ILLEGAL = [
    (op, state)
    for op, (_, target) in OPERATIONS.items()
    for state in DEPOSIT_STATES
    if state != target and (op, state) not in ALLOWED
]


def _ids(cases):
    return [f"{op}-from-{state}" for op, state in cases]


def test_the_matrix_covers_every_state_and_operation():
    assert len(ALLOWED) + len(NO_OPS) + len(ILLEGAL) == len(OPERATIONS) * len(DEPOSIT_STATES) == 12


def test_create_opens_a_deposit_without_moving_money():
    # given a player without a wallet
    player = PlayerFactory()
    # when they open a deposit
    deposit = create_deposit(player=player, amount=AMOUNT, currency="EUR", actor=player_of(player))
    # then it is `created`, with an empty wallet, a timeline row and an audit event, but no ledger entry
    wallet = Wallet.objects.get(player=player, currency="EUR")
    assert (deposit.state, deposit.wallet_id, deposit.tenant_id) == ("created", wallet.pk, player.tenant_id)
    assert (wallet.balance_available, wallet.balance_held) == (0, 0)
    assert not JournalEntry.objects.exists()
    assert list(deposit.transitions.values_list("from_state", "to_state", "actor_type")) == [("", "created", "player")]
    audit = AuditEvent.objects.get(target_id=str(deposit.pk))
    assert (audit.action, audit.after_state, audit.data) == (
        "deposit.created",
        "created",
        {"amount": AMOUNT, "currency": "EUR"},
    )
    assert_invariants()


@pytest.mark.parametrize(("operation", "state"), list(ALLOWED), ids=_ids(ALLOWED))
def test_allowed_transition(operation, state):
    # given a deposit in `state`
    deposit = deposit_in_state(state)
    call, target = OPERATIONS[operation]
    events, available_sign = ALLOWED[(operation, state)]
    # when the operation runs
    with record_effects(deposit.wallet) as effects:
        returned = call(deposit)
    # then the deposit moves once, with the design's money effect and its history and audit rows
    deposit.refresh_from_db()
    assert deposit.state == returned.state == target
    assert (effects.ledger, effects.available, effects.held) == (events, available_sign * AMOUNT, 0)
    assert effects.history == [(state, target)]
    assert effects.audit == [f"deposit.{target}"]
    history = DepositTransition.objects.filter(deposit=deposit).latest("id")
    assert (history.actor_type, history.actor_label) == ("psp", "sandbox")
    assert_invariants()


def test_completion_credits_available_against_psp_clearing():
    # given a deposit pending at the provider
    deposit = deposit_in_state("pending_provider")
    # when the provider confirms it
    complete_deposit(deposit, actor=PSP)
    # then one deposit_completed entry posts +amount to the player and -amount to PSP clearing
    deposit.refresh_from_db()
    assert deposit.completed_at is not None
    entry = JournalEntry.objects.get(deposit=deposit)
    assert (entry.event_type, entry.currency, entry.tenant_id) == ("deposit_completed", "EUR", deposit.tenant_id)
    assert sorted(entry.postings.values_list("account", "wallet_id", "amount")) == [
        (Account.PLAYER_AVAILABLE, deposit.wallet_id, +AMOUNT),
        (Account.PSP_CLEARING, None, -AMOUNT),
    ]
    assert Wallet.objects.get(pk=deposit.wallet_id).balance_available == AMOUNT
    assert_invariants()


@pytest.mark.parametrize(("operation", "state"), NO_OPS, ids=_ids(NO_OPS))
def test_asking_for_the_current_state_is_a_no_op(operation, state):
    # given a deposit already in the operation's target state
    deposit = deposit_in_state(state)
    call, _ = OPERATIONS[operation]
    # when the operation runs again (a repeated provider webhook, say)
    with expect_no_change():
        returned = call(deposit)
    # then nothing was written, and what comes back is what is stored
    stored = Deposit.objects.get(pk=deposit.pk)
    assert (returned.state, returned.completed_at, returned.provider_reference) == (
        stored.state,
        stored.completed_at,
        stored.provider_reference,
    )
    assert_invariants()


def test_a_repeated_pending_report_does_not_pretend_to_change_the_provider_reference():
    # given a deposit the provider already took, under its reference
    deposit = deposit_in_state("pending_provider")
    original = deposit.provider_reference
    # when a late report names another reference
    with expect_no_change():
        returned = mark_deposit_pending(deposit, actor=PSP, provider_reference="other", checkout_url="https://x.test/")
    # then the returned deposit shows what is stored, not the ignored values
    assert (returned.provider_reference, returned.checkout_url) == (original, "")


@pytest.mark.parametrize(("operation", "state"), ILLEGAL, ids=_ids(ILLEGAL))
def test_any_other_transition_is_refused_and_changes_nothing(operation, state):
    # given a deposit in `state` the operation cannot leave
    deposit = deposit_in_state(state)
    call, target = OPERATIONS[operation]
    # when the operation is attempted, then it is refused with the contract's fields
    with expect_no_change(), pytest.raises(IllegalTransactionStateTransition) as refused:
        call(deposit)
    assert refused.value.error_code == "ILLEGAL_TRANSACTION_STATE_TRANSITION"
    assert refused.value.problem_fields() == {"from_state": state, "to_state": target, "tx_type": "deposit"}
    assert Deposit.objects.get(pk=deposit.pk).state == state
    assert_invariants()
