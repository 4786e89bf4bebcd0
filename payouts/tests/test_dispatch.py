"""Sending a payout to the PSP (payouts.dispatch and its Celery task, run inline), steered outcomes.

The tenant's account is at the in-process sandbox; outcomes the sandbox decides come
back as signed webhooks, delivered here through the real endpoint with the test client.
"""

import pytest
from celery.exceptions import Retry

from payouts import dispatch, tasks
from payouts.models import WebhookEvent
from payouts.providers import ProviderTimeout, ProviderUnavailable
from payouts.sandbox.models import SandboxDelivery, SandboxPayout
from wallet.models import PayoutAttempt, Withdrawal
from wallet.services import retry_payout
from wallet.tests.api.helpers import balances
from wallet.tests.builders import AMOUNT, REASON, operator_of, withdrawal_in_state
from wallet.tests.invariants import assert_invariants

from .helpers import attempts_of, deliver_all, money_events, pending_deliveries, run_task_once, steer

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(player):
    """An approved withdrawal of 25.00 EUR, its money held, not yet sent (no worker in these tests)."""
    return withdrawal_in_state("approved", player=player)


def _state(withdrawal) -> str:
    return Withdrawal.objects.get(pk=withdrawal.pk).state


def _psp_payouts(withdrawal) -> list[SandboxPayout]:
    return list(SandboxPayout.objects.filter(reference=withdrawal.reference).order_by("created_at"))


def test_a_payout_is_sent_once_under_the_attempt_id_and_paid_by_the_webhook(web, approved, player, account):
    # given an approved withdrawal and a PSP that pays
    # when the dispatcher sends it
    assert dispatch.dispatch_payout(approved.pk) == "accepted, outcome to follow"
    # then attempt 1 was sent once, under its own id as the PSP's idempotency key, and the PSP took it
    (attempt,) = attempts_of(approved)
    (at_psp,) = _psp_payouts(approved)
    assert (attempt.number, attempt.status, attempt.dispatch_count, attempt.outcome_unknown) == (1, "pending", 1, False)
    assert (at_psp.idempotency_key, at_psp.amount, at_psp.currency) == (str(attempt.pk), AMOUNT, "EUR")
    assert attempt.provider_reference == at_psp.id and attempt.dispatched_at is not None
    assert (_state(approved), balances(player)) == ("payout_pending", (0, AMOUNT))
    # when the PSP's payout.succeeded webhook arrives
    assert deliver_all(web) == 1
    # then the withdrawal is paid once and the held money is gone
    attempt.refresh_from_db()
    assert (_state(approved), attempt.status, balances(player)) == ("paid", "succeeded", (0, 0))
    assert money_events(approved) == ["withdraw_requested", "withdraw_paid"]
    assert WebhookEvent.objects.get().outcome == "applied"
    # and dispatching again sends nothing
    assert dispatch.dispatch_payout(approved.pk) == "nothing to send (paid)"
    assert len(_psp_payouts(approved)) == 1
    assert_invariants()


def test_a_failing_psp_leaves_the_money_held(web, approved, player, account, tenant):
    # given a PSP steered to fail every payout, and no attempts left for an automatic retry
    tenant.policy.payout_retry_limit = 1
    tenant.policy.save()
    steer(account, payout_behavior="fail")
    # when the payout is sent and the failure reported
    dispatch.dispatch_payout(approved.pk)
    deliver_all(web)
    # then the withdrawal waits in payout_failed with its money still held, nothing paid
    (attempt,) = attempts_of(approved)
    assert (attempt.status, attempt.failure_reason) == ("failed", "Beneficiary bank rejected the transfer")
    assert (_state(approved), balances(player)) == ("payout_failed", (0, AMOUNT))
    assert money_events(approved) == ["withdraw_requested"]
    assert_invariants()


def test_fail_first_fails_the_first_n_payouts_then_pays(web, player, account, tenant):
    # given a PSP that fails its next two payouts, and three approved withdrawals (one attempt each)
    tenant.policy.payout_retry_limit = 1
    tenant.policy.save()
    steer(account, payout_behavior="fail_first", fail_first=2)
    withdrawals = [withdrawal_in_state("approved", player=player) for _ in range(3)]
    # when they are sent in turn and the outcomes delivered
    for withdrawal in withdrawals:
        dispatch.dispatch_payout(withdrawal.pk)
    deliver_all(web)
    # then the first two failed and the third was paid
    assert [_state(w) for w in withdrawals] == ["payout_failed", "payout_failed", "paid"]
    assert balances(player) == (0, 2 * AMOUNT)


def test_fail_amount_fails_payouts_at_or_above_the_threshold(web, player, account, tenant):
    tenant.policy.payout_retry_limit = 1
    tenant.policy.save()
    steer(account, payout_behavior="fail_amount", fail_amount_at_or_above=100_00)
    small, at, large = (withdrawal_in_state("approved", player=player, amount=a) for a in (99_99, 100_00, 250_00))
    for withdrawal in (small, at, large):
        dispatch.dispatch_payout(withdrawal.pk)
    deliver_all(web)
    assert [_state(w) for w in (small, at, large)] == ["paid", "payout_failed", "payout_failed"]
    assert [p.status for w in (small, at, large) for p in _psp_payouts(w)] == ["succeeded", "failed", "failed"]
    assert balances(player) == (0, 100_00 + 250_00)


def test_hold_accepts_the_payout_and_never_reports(web, approved, player, account):
    steer(account, payout_behavior="hold")
    assert dispatch.dispatch_payout(approved.pk) == "accepted, outcome to follow"
    (attempt,) = attempts_of(approved)
    assert (attempt.status, attempt.outcome_unknown, attempt.dispatch_count) == ("pending", False, 1)
    assert [p.status for p in _psp_payouts(approved)] == ["pending"]
    assert pending_deliveries() == []
    assert (_state(approved), balances(player)) == ("payout_pending", (0, AMOUNT))


def test_an_unavailable_psp_makes_the_task_retry_with_backoff_and_pays_nothing(web, approved, player, account):
    # given a PSP that answers "unavailable"
    steer(account, payout_behavior="unavailable")
    # when the payout task runs, then it asks to be retried in 2 s (later tries back off: 2, 4, 8 ... 300 s)
    with pytest.raises(Retry) as retry:
        run_task_once(tasks.dispatch_payout, str(approved.pk))
    assert retry.value.when == 2
    assert isinstance(retry.value.exc, ProviderUnavailable)
    with pytest.raises(Retry) as later:
        run_task_once(tasks.dispatch_payout, str(approved.pk), retries=3)
    assert later.value.when == 16
    with pytest.raises(Retry) as capped:
        run_task_once(tasks.dispatch_payout, str(approved.pk), retries=12)
    assert capped.value.when == 300
    # and the PSP has nothing, nothing is paid, and the error is kept for operators
    (attempt,) = attempts_of(approved)
    assert (attempt.status, attempt.dispatch_count, attempt.outcome_unknown) == ("pending", 1, True)
    assert "ProviderUnavailable" in attempt.last_error
    assert _psp_payouts(approved) == []
    assert (_state(approved), balances(player), money_events(approved)) == (
        "payout_pending",
        (0, AMOUNT),
        ["withdraw_requested"],
    )
    # when the PSP is back, the next try asks first, learns the PSP never got it, and sends the same key again
    steer(account, payout_behavior="succeed")
    assert run_task_once(tasks.dispatch_payout, str(approved.pk), retries=4) == "accepted, outcome to follow"
    attempt.refresh_from_db()
    (at_psp,) = _psp_payouts(approved)
    assert (attempt.dispatch_count, at_psp.idempotency_key) == (2, str(attempt.pk))
    deliver_all(web)
    assert _state(approved) == "paid"


def test_a_psp_that_stays_down_exhausts_the_retries_without_paying(approved, account):
    steer(account, payout_behavior="unavailable")
    # eager apply() runs all of Celery's retries back to back; the last one gives up with the PSP's error
    result = tasks.dispatch_payout.apply(args=(str(approved.pk),))
    assert (result.state, type(result.result)) == ("FAILURE", ProviderUnavailable)
    (attempt,) = attempts_of(approved)
    assert (attempt.status, attempt.dispatch_count) == ("pending", 1)  # every later try asked; none re-sent
    assert _psp_payouts(approved) == [] and _state(approved) == "payout_pending"


def test_a_timeout_is_an_unknown_outcome_asked_about_before_anything_else(web, approved, player, account, settings):
    # given a PSP slower than our timeout: it records the payout but we never hear the answer
    settings.PSP_TIMEOUT_SECONDS = 0.2
    steer(account, latency_ms=200)
    # when the payout task runs, then it will be retried
    with pytest.raises(Retry) as retry:
        run_task_once(tasks.dispatch_payout, str(approved.pk))
    assert isinstance(retry.value.exc, ProviderTimeout)
    # and the outcome is unknown: sent once, and the PSP does have it
    (attempt,) = attempts_of(approved)
    assert (attempt.dispatch_count, attempt.outcome_unknown) == (1, True)
    assert "ProviderTimeout" in attempt.last_error
    assert [p.idempotency_key for p in _psp_payouts(approved)] == [str(attempt.pk)]
    # when every retry runs while the PSP is still slow, each only asks (and times out): nothing is re-sent
    assert tasks.dispatch_payout.apply(args=(str(approved.pk),)).state == "FAILURE"
    # and neither an automatic nor an operator retry opens a new attempt while the outcome is unknown
    tasks.retry_failed_payout.apply(args=(str(approved.pk),))
    same = retry_payout(approved, actor=operator_of(approved.tenant), reason=REASON)
    assert same.pk == attempt.pk
    assert [(a.number, a.dispatch_count) for a in attempts_of(approved)] == [(1, 1)]
    # when the PSP answers in time again, the next run asks, learns it succeeded, and pays without re-sending
    steer(account, latency_ms=0)
    assert run_task_once(tasks.dispatch_payout, str(approved.pk), retries=5) == "paid"
    attempt.refresh_from_db()
    assert (attempt.status, attempt.dispatch_count) == ("succeeded", 1)
    assert len(_psp_payouts(approved)) == 1
    assert (_state(approved), balances(player)) == ("paid", (0, 0))
    # and the PSP's own webhook, arriving late, changes nothing
    deliver_all(web)
    assert WebhookEvent.objects.get().outcome == "no_change"
    assert money_events(approved) == ["withdraw_requested", "withdraw_paid"]
    assert_invariants()


def test_without_a_provider_account_nothing_is_sent(player):
    withdrawal = withdrawal_in_state("approved", player=player)
    withdrawal.tenant.provider_account.delete()
    assert dispatch.dispatch_payout(withdrawal.pk) == "no provider account: pay it manually"
    assert (_state(withdrawal), PayoutAttempt.objects.count(), SandboxDelivery.objects.count()) == ("approved", 0, 0)


def test_a_second_run_asks_the_psp_instead_of_sending_again(approved, player, account):
    # given a payout already sent (a redelivered task runs the dispatcher a second time)
    dispatch.dispatch_payout(approved.pk)
    # when it runs again, then it asks the PSP, which already paid it: paid without a second send
    assert dispatch.dispatch_payout(approved.pk) == "paid"
    (attempt,) = attempts_of(approved)
    assert (attempt.status, attempt.dispatch_count) == ("succeeded", 1)
    assert len(_psp_payouts(approved)) == 1
    assert (_state(approved), balances(player)) == ("paid", (0, 0))


def test_a_suspended_casino_sends_no_payout_but_records_outcomes_in_flight(web, player, account, tenant, secret):
    # given a payout opened but not yet sent, and another already at the PSP
    unsent = withdrawal_in_state("payout_pending", player=player)
    in_flight = withdrawal_in_state("approved", player=player)
    dispatch.dispatch_payout(in_flight.pk)
    # when the casino is suspended
    tenant.status = "suspended"
    tenant.save()
    # then the unsent payout is not sent
    assert dispatch.dispatch_payout(unsent.pk) == "not sent: the tenant is suspended"
    assert [a.dispatch_count for a in attempts_of(unsent)] == [0]
    assert _psp_payouts(unsent) == []
    # and the PSP's outcome for the money already in flight is still recorded
    deliver_all(web)
    assert _state(in_flight) == "paid"
