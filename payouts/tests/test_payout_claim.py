"""The dispatcher's claim: the attempt to send, counted as sent in the same commit, before the PSP is called.

claim_payout does in one transaction what start_payout and mark_payout_sending did in
two; these tests hold it to the same rows, audit and refusals, and to the rule that an
attempt sent before is never counted as sent again without asking the PSP first.
"""

import pytest

from core.models import AuditEvent
from tenants.errors import TenantSuspended
from wallet.errors import PayoutRetryLimitReached
from wallet.models import PayoutAttempt, Withdrawal
from wallet.services import claim_payout, mark_payout_accepted, mark_payout_sending, retry_payout
from wallet.tests.builders import REASON, SYSTEM, operator_of, pending_attempt, withdrawal_in_state
from wallet.tests.concurrency import errors_of, run_together, successes_of
from wallet.tests.invariants import assert_invariants, expect_no_change, record_effects

pytestmark = pytest.mark.django_db


def _claim(withdrawal):
    return claim_payout(withdrawal, actor=SYSTEM, provider="sandbox")


def _state(withdrawal) -> str:
    return Withdrawal.objects.get(pk=withdrawal.pk).state


def test_an_approved_withdrawal_gets_attempt_one_already_counted_as_sent():
    # given an approved withdrawal
    withdrawal = withdrawal_in_state("approved")
    # when the dispatcher claims it
    with record_effects(withdrawal.wallet) as effects:
        claim = _claim(withdrawal)
    # then attempt 1 is open and counted as sent, its outcome unknown until the PSP answers
    attempt = PayoutAttempt.objects.get(withdrawal=withdrawal)
    assert claim.send and claim.attempt.pk == attempt.pk
    assert (attempt.number, attempt.status, attempt.provider) == (1, "pending", "sandbox")
    assert (attempt.dispatch_count, attempt.outcome_unknown) == (1, True)
    assert attempt.dispatched_at is not None
    assert _state(withdrawal) == "payout_pending"
    # and what start_payout and mark_payout_sending wrote is there, in one commit, with no money moved
    assert (effects.ledger, effects.available, effects.held, effects.attempts) == ([], 0, 0, 1)
    assert effects.history == [("approved", "payout_pending")]
    assert effects.audit == ["payout_attempt.created", "payout_attempt.sent", "withdrawal.payout_pending"]
    sent = AuditEvent.objects.get(action="payout_attempt.sent")
    assert (sent.target_id, sent.data) == (str(attempt.pk), {"withdrawal": str(withdrawal.pk), "dispatch": 1})
    assert_invariants()


def test_an_attempt_a_retry_opened_is_counted_as_sent():
    # given a failed payout whose retry opened attempt 2, not sent yet
    withdrawal = withdrawal_in_state("payout_failed")
    withdrawal.tenant.policy.payout_cooldown_seconds = 0
    withdrawal.tenant.policy.save()
    second = retry_payout(withdrawal, actor=operator_of(withdrawal.tenant), reason=REASON, provider="sandbox")
    # when the dispatcher claims it
    claim = _claim(withdrawal)
    # then that attempt is counted as sent, and no third one is opened
    second.refresh_from_db()
    assert (claim.send, claim.attempt.pk) == (True, second.pk)
    assert (second.number, second.dispatch_count, second.outcome_unknown) == (2, 1, True)
    assert PayoutAttempt.objects.filter(withdrawal=withdrawal).count() == 2


def test_an_attempt_sent_before_is_returned_to_ask_about_and_not_counted_again():
    # given an attempt already sent once (its outcome unknown: a worker died after the claim)
    withdrawal = withdrawal_in_state("approved")
    first = _claim(withdrawal)
    # when the claim runs again (a redelivered task), then it writes nothing and says "ask first"
    with expect_no_change():
        again = _claim(withdrawal)
    assert (again.send, again.attempt.pk, again.attempt.dispatch_count) == (False, first.attempt.pk, 1)


def test_a_suspended_casino_sends_nothing_new():
    # given an attempt opened but never sent, and another approved withdrawal, of a casino then suspended
    unsent = withdrawal_in_state("payout_pending")
    approved = withdrawal_in_state("approved", player=unsent.wallet.player)
    tenant = unsent.tenant
    tenant.status = "suspended"
    tenant.save()
    # when the dispatcher claims them, then the unsent attempt stays unsent and no attempt is opened
    with expect_no_change():
        claim = _claim(unsent)
    assert (claim.send, claim.attempt.dispatch_count) == (False, 0)
    with pytest.raises(TenantSuspended), expect_no_change():
        _claim(approved)
    assert _state(approved) == "approved"


def test_the_retry_limit_refuses_a_first_attempt_when_the_limit_allows_none_left():
    # given an approved withdrawal whose casino's limit is already used up (an attempt row from elsewhere)
    withdrawal = withdrawal_in_state("approved")
    withdrawal.tenant.policy.payout_retry_limit = 1
    withdrawal.tenant.policy.save()
    PayoutAttempt.objects.create(
        tenant_id=withdrawal.tenant_id, withdrawal=withdrawal, number=1, status=PayoutAttempt.Status.FAILED
    )
    # when the dispatcher claims it, then the limit refuses, audited, with nothing opened
    with pytest.raises(PayoutRetryLimitReached), expect_no_change(audit_actions=("payout.retry_refused",)):
        _claim(withdrawal)


@pytest.mark.parametrize("state", ["requested", "paid", "rejected", "payout_failed"])
def test_nothing_is_claimed_in_other_states(state):
    withdrawal = withdrawal_in_state(state)
    with expect_no_change():
        assert _claim(withdrawal) is None


def test_accepted_clears_the_unknown_outcome_and_never_touches_a_finished_attempt():
    # given a claimed attempt the PSP accepted
    withdrawal = withdrawal_in_state("approved")
    attempt = _claim(withdrawal).attempt
    mark_payout_accepted(attempt, actor=SYSTEM, provider_reference="po-1")
    attempt.refresh_from_db()
    assert (attempt.outcome_unknown, attempt.provider_reference, attempt.status) == (False, "po-1", "pending")
    # when the attempt was finished meanwhile (its webhook came first) and a late "accepted" arrives
    PayoutAttempt.objects.filter(pk=attempt.pk).update(status=PayoutAttempt.Status.FAILED, outcome_unknown=True)
    mark_payout_accepted(attempt, actor=SYSTEM, provider_reference="po-2")
    # then the finished attempt keeps what it had
    attempt.refresh_from_db()
    assert (attempt.status, attempt.outcome_unknown, attempt.provider_reference) == ("failed", True, "po-1")


def test_mark_sending_still_counts_each_send_after_asking():
    # given an attempt sent once whose PSP never got it (asked first, not_found)
    withdrawal = withdrawal_in_state("approved")
    attempt = _claim(withdrawal).attempt
    # when it is sent again, then the count goes up under the same key
    again = mark_payout_sending(attempt, actor=SYSTEM)
    assert (again.pk, again.dispatch_count) == (attempt.pk, 2)
    assert pending_attempt(withdrawal).dispatch_count == 2


@pytest.mark.django_db(transaction=True)
def test_ten_dispatchers_claiming_one_payout_send_it_once():
    # given an approved withdrawal, and ten dispatchers (redelivered tasks, the poller) at once
    withdrawal = withdrawal_in_state("approved")
    # when they all claim it
    outcomes = run_together(10, lambda i: claim_payout(withdrawal.pk, actor=SYSTEM, provider="sandbox"))
    # then one attempt exists, counted as sent once, and exactly one dispatcher may send it;
    # the others were told to ask the PSP first (each read the attempt after the lock, not before)
    assert errors_of(outcomes) == []
    claims = successes_of(outcomes)
    attempt = PayoutAttempt.objects.get(withdrawal=withdrawal)
    assert {claim.attempt.pk for claim in claims} == {attempt.pk}
    assert sorted(claim.send for claim in claims) == [False] * 9 + [True]
    assert (attempt.dispatch_count, AuditEvent.objects.filter(action="payout_attempt.sent").count()) == (1, 1)
    assert_invariants()
