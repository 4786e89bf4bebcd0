"""Operator decisions on withdrawals: reasons, transitions, effects, illegal moves, repeats."""

import pytest

from wallet.models import PayoutAttempt, Wallet, WithdrawalTransition
from wallet.tests.api.helpers import assert_problem, assert_validation_error, balances, new_key
from wallet.tests.builders import AMOUNT, REASON, WITHDRAWAL_STATES, withdrawal_in_state
from wallet.tests.invariants import Effects, assert_invariants, expect_no_change, record_effects

from .helpers import DECISIONS, approvers_of, as_operator, audit_since, body_of, decide, last_audit_id, state_of

pytestmark = pytest.mark.django_db

# The decisions' allowed sources (beyond DECISIONS' own): reject also after a failed payout.
ALLOWED = {d: {source, target} for d, (source, target) in DECISIONS.items()} | {
    "reject": {"requested", "payout_failed", "rejected"}
}
ILLEGAL = [(d, s) for d in DECISIONS for s in WITHDRAWAL_STATES if s not in ALLOWED[d]]


def _wallet(withdrawal) -> Wallet:
    return Wallet.objects.get(pk=withdrawal.wallet_id)


@pytest.mark.parametrize("decision", DECISIONS)
@pytest.mark.parametrize("reason", [None, "", "   \n\t "], ids=["missing", "blank", "whitespace"])
def test_a_decision_without_a_reason_is_refused_and_changes_nothing(finance, player, decision, reason):
    # given a withdrawal ready for the decision
    source, target = DECISIONS[decision]
    withdrawal = withdrawal_in_state(source, player=player)
    client, key, approvers = as_operator(finance), new_key(), approvers_of(withdrawal)
    # when the operator decides without a reason, then 400 REVIEW_REASON_REQUIRED: no history, audit or ledger
    with expect_no_change():
        assert_problem(decide(client, withdrawal.pk, decision, reason, key=key), 400, "REVIEW_REASON_REQUIRED")
    assert state_of(withdrawal) == source
    assert approvers_of(withdrawal) == approvers
    # and the key stays free: the corrected request with the same key goes through
    response = decide(client, withdrawal.pk, decision, REASON, key=key)
    assert response.status_code == 200, response.content
    assert state_of(withdrawal) == target


@pytest.mark.parametrize("reason", [["a list"], {"an": "object"}, "x" * 2001])
def test_a_reason_that_is_not_text_is_a_validation_error(finance, player, reason):
    withdrawal = withdrawal_in_state("requested", player=player)
    with expect_no_change():
        assert_validation_error(decide(as_operator(finance), withdrawal.pk, "approve", reason), "reason")


def test_approve_moves_requested_to_approved_and_queues_a_no_op_dispatch(
    finance, player, django_capture_on_commit_callbacks
):
    # given a withdrawal awaiting review in a casino without a PSP account
    withdrawal = withdrawal_in_state("requested", player=player)
    mark = last_audit_id()
    # when a finance operator approves it (and what it queues for after the commit runs)
    with record_effects(_wallet(withdrawal)) as effects, django_capture_on_commit_callbacks(execute=True) as queued:
        response = decide(as_operator(finance), withdrawal.pk, "approve", "Documents fine")
    # then it is approved, the money stays held, and one history row and audit event say who and why
    assert response.status_code == 200, response.content
    body = body_of(response)
    assert (body["state"], body["approvals"], body["approvals_required"]) == ("approved", 1, 1)
    assert body["awaiting_second_approval"] is False
    assert effects == Effects(history=[("requested", "approved")], audit=["withdrawal.approved"])
    (event,) = audit_since(mark)
    assert (event.actor_user_id, event.reason, event.before_state, event.after_state) == (
        finance.pk,
        "Documents fine",
        "requested",
        "approved",
    )
    last = WithdrawalTransition.objects.filter(withdrawal_id=withdrawal.pk).latest("id")
    assert (last.actor_type, last.actor_label, last.reason) == ("operator", finance.username, "Documents fine")
    assert approvers_of(withdrawal) == [finance.pk]
    # and the payout dispatch ran after the commit, a no-op without a PSP account
    assert len(queued) == 1
    assert state_of(withdrawal) == "approved"
    assert not PayoutAttempt.objects.filter(withdrawal_id=withdrawal.pk).exists()
    assert_invariants()


@pytest.mark.parametrize("source", ["requested", "payout_failed"])
def test_reject_releases_the_held_money(finance, player, source):
    # given a withdrawal awaiting review, or one whose payout failed (money still held)
    withdrawal = withdrawal_in_state(source, player=player)
    attempts = list(PayoutAttempt.objects.filter(withdrawal_id=withdrawal.pk).values_list("status", flat=True))
    assert balances(player) == (0, AMOUNT)
    # when a finance operator rejects it
    with record_effects(_wallet(withdrawal)) as effects:
        response = decide(as_operator(finance), withdrawal.pk, "reject", "Bonus abuse")
    # then the held money is back in available, with a withdraw_released entry
    assert response.status_code == 200, response.content
    assert body_of(response)["state"] == "rejected"
    assert effects == Effects(
        ledger=["withdraw_released"],
        history=[(source, "rejected")],
        audit=["withdrawal.rejected"],
        available=AMOUNT,
        held=-AMOUNT,
    )
    assert balances(player) == (AMOUNT, 0)
    # and the failed attempt stays as it was
    assert list(PayoutAttempt.objects.filter(withdrawal_id=withdrawal.pk).values_list("status", flat=True)) == attempts
    assert_invariants()


def test_mark_paid_from_approved_pays_out_of_held(finance, player):
    withdrawal = withdrawal_in_state("approved", player=player)
    with record_effects(_wallet(withdrawal)) as effects:
        response = decide(as_operator(finance), withdrawal.pk, "mark-paid", "Paid by bank transfer 4711")
    assert response.status_code == 200, response.content
    body = body_of(response)
    assert body["state"] == "paid" and body["paid_at"]
    assert effects == Effects(
        ledger=["withdraw_paid"], history=[("approved", "paid")], audit=["withdrawal.paid"], held=-AMOUNT
    )
    assert balances(player) == (0, 0)
    assert_invariants()


def test_retry_payout_opens_the_next_attempt(finance, player):
    withdrawal = withdrawal_in_state("payout_failed", player=player)
    with record_effects(_wallet(withdrawal)) as effects:
        response = decide(as_operator(finance), withdrawal.pk, "retry-payout", "Bank is back")
    assert response.status_code == 200, response.content
    assert body_of(response)["state"] == "payout_pending"
    assert effects == Effects(
        history=[("payout_failed", "payout_pending")],
        audit=["payout_attempt.created", "withdrawal.payout_pending"],
        attempts=1,
    )
    numbers = PayoutAttempt.objects.filter(withdrawal_id=withdrawal.pk).order_by("number")
    assert [(a.number, a.status) for a in numbers] == [(1, "failed"), (2, "pending")]
    assert balances(player) == (0, AMOUNT)


@pytest.mark.parametrize(("decision", "state"), ILLEGAL)
def test_an_illegal_transition_is_409_and_changes_nothing(finance, player, decision, state):
    # given a withdrawal in a state the decision cannot leave from
    withdrawal = withdrawal_in_state(state, player=player)
    # when the operator asks for it, then 409 with from_state, to_state and tx_type, and nothing changes
    with expect_no_change():
        response = decide(as_operator(finance), withdrawal.pk, decision)
    body = assert_problem(response, 409, "ILLEGAL_TRANSACTION_STATE_TRANSITION")
    assert (body["from_state"], body["to_state"], body["tx_type"]) == (state, DECISIONS[decision][1], "withdrawal")
    assert state_of(withdrawal) == state


@pytest.mark.parametrize("decision", DECISIONS)
def test_the_same_decision_again_is_200_with_no_second_effect(finance, player, decision):
    # given a withdrawal already in the decision's target state
    target = DECISIONS[decision][1]
    withdrawal = withdrawal_in_state(target, player=player)
    # when the operator asks for that state again (a new key: a new intent), then 200 and nothing is written
    with record_effects(_wallet(withdrawal)) as effects:
        response = decide(as_operator(finance), withdrawal.pk, decision)
    assert response.status_code == 200, response.content
    assert body_of(response)["state"] == target
    assert effects.is_empty, effects


def test_a_decision_twice_in_a_row_acts_once(finance, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    client = as_operator(finance)
    assert decide(client, withdrawal.pk, "reject").status_code == 200
    with record_effects(_wallet(withdrawal)) as effects:
        again = decide(client, withdrawal.pk, "reject", "clicked again")
    assert again.status_code == 200 and "Idempotent-Replayed" not in again
    assert effects.is_empty and balances(player) == (AMOUNT, 0)


def test_a_suspended_casino_approves_nothing_but_may_still_reject(tenant, finance, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    tenant.status = tenant.Status.SUSPENDED
    tenant.save(update_fields=["status"])
    client = as_operator(finance)
    with expect_no_change():
        assert_problem(decide(client, withdrawal.pk, "approve"), 403, "TENANT_SUSPENDED")
    assert decide(client, withdrawal.pk, "reject").status_code == 200
    assert balances(player) == (AMOUNT, 0)


def test_reason_is_kept_verbatim_but_trimmed(finance, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    decide(as_operator(finance), withdrawal.pk, "approve", "  KYC ok ✓  ")
    assert WithdrawalTransition.objects.filter(withdrawal_id=withdrawal.pk).latest("id").reason == "KYC ok ✓"
