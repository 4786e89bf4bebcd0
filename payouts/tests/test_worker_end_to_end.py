"""End to end with a real Celery worker on the real Redis and the product on a live server.

The worker (payouts/tests/worker.py) runs `celery -A config worker` against the test
database; this process commits (transaction=True), enqueues on the worker's own queue,
and delivers the sandbox PSP's signed webhooks over HTTP with engine.deliver_due().
"""

import os
import signal

import pytest

from payouts.models import WebhookEvent
from payouts.sandbox import engine
from payouts.sandbox.models import SandboxDelivery, SandboxPayment, SandboxPayout
from wallet.models import Deposit, PayoutAttempt, Withdrawal
from wallet.services import approve_withdrawal
from wallet.tests.api.helpers import balances, client_for, deposit_request
from wallet.tests.builders import AMOUNT, REASON, operator_of, withdraw
from wallet.tests.factories import fund
from wallet.tests.invariants import assert_invariants

from .helpers import money_events, outcomes, steer, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

DEADLINE = 30  # seconds, for anything the worker or the live server does


def _state(model, pk) -> str:
    return model.objects.filter(pk=pk).values_list("state", flat=True).get()


def test_a_deposit_is_completed_by_the_psps_webhook_over_http(player, live_webhooks, celery_worker, clean_throttle):
    # (no task on this path: with the worker running, nothing here may rely on tasks run inline)
    # given a player who starts a deposit through the API
    response = deposit_request(client_for(player), "25.00", "EUR")
    assert response.status_code == 201, response.content
    deposit_id = response.json()["id"]
    # when the player pays at the PSP's checkout, and the PSP sends its signed webhook to the live product
    payment = SandboxPayment.objects.get(reference=deposit_id)
    engine.complete_checkout(payment.id, "paid")
    assert engine.deliver_due() == 1
    # then the deposit is completed and the balance credited once
    assert _state(Deposit, deposit_id) == "completed"
    assert money_events(Deposit.objects.get(pk=deposit_id)) == ["deposit_completed"]
    assert balances(player) == (AMOUNT, 0)
    assert SandboxDelivery.objects.get().last_status == 200
    # and the PSP delivering the same event again changes nothing
    delivery = SandboxDelivery.objects.get()
    headers = engine.signed_headers(live_webhooks, delivery)
    assert engine.http_send(live_webhooks.webhook_url, headers, delivery.payload) == 200
    assert balances(player) == (AMOUNT, 0)
    assert outcomes() == ["applied"]


def _approved_by_an_operator(player):
    """A funded withdrawal, approved: its commit enqueues the payout on the worker's queue."""
    fund(player, AMOUNT)
    withdrawal = withdraw(player, AMOUNT)
    approve_withdrawal(withdrawal, actor=operator_of(player.tenant), reason=REASON)
    return withdrawal


def _deliver_until_paid(withdrawal, worker) -> None:
    """Play the PSP's sender: deliver due webhooks to the live product until the withdrawal is paid."""

    def delivered_and_paid():
        engine.deliver_due()
        return _state(Withdrawal, withdrawal.pk) == "paid"

    wait_for(delivered_and_paid, timeout=DEADLINE, interval=0.1, what="paid", details=worker.log_tail)


def test_an_approved_withdrawal_is_paid_by_the_worker_and_the_webhook(player, live_webhooks, celery_worker):
    # given an approved withdrawal (the approval's commit enqueued the payout for the worker)
    withdrawal = _approved_by_an_operator(player)
    # when the worker sends it and the PSP's payout.succeeded reaches the product over HTTP
    _deliver_until_paid(withdrawal, celery_worker)
    # then exactly one payout at the PSP, one succeeded attempt, one withdraw_paid, and no money held
    attempt = PayoutAttempt.objects.get(withdrawal=withdrawal)
    assert (attempt.status, attempt.dispatch_count) == ("succeeded", 1)
    assert list(SandboxPayout.objects.values_list("idempotency_key", flat=True)) == [str(attempt.pk)]
    assert money_events(withdrawal) == ["withdraw_requested", "withdraw_paid"]
    assert balances(player) == (0, 0)
    event = WebhookEvent.objects.get()
    assert (event.payout_attempt_id, event.outcome) == (attempt.pk, "applied")
    assert_invariants()


def test_a_worker_killed_in_the_middle_of_a_payout_never_pays_twice(player, account, live_webhooks, celery_worker):
    # given a PSP that records a payout and then takes 3 s to answer (below our 5 s timeout)
    steer(account, latency_ms=3000)
    withdrawal = _approved_by_an_operator(player)
    # when the worker's child is inside create_payout, after the PSP recorded the payout
    attempt = wait_for(
        lambda: PayoutAttempt.objects.filter(withdrawal=withdrawal, dispatch_count=1).first(),
        timeout=DEADLINE,
        what="the payout to be sent",
        details=celery_worker.log_tail,
    )
    wait_for(lambda: SandboxPayout.objects.filter(idempotency_key=str(attempt.pk)).exists(), timeout=DEADLINE)
    busy = wait_for(lambda: celery_worker.active_task_pids("payouts.dispatch_payout"), timeout=2, what="busy child")
    children = celery_worker.children()
    assert busy <= children, (busy, children)
    # and that child is killed outright
    for pid in busy:
        os.kill(pid, signal.SIGKILL)
    # then the task is handed back (acks_late, reject on worker lost), runs again, asks the PSP, and pays
    wait_for(
        lambda: _state(Withdrawal, withdrawal.pk) == "paid",
        timeout=DEADLINE,
        what="the redelivered task to pay the withdrawal",
        details=celery_worker.log_tail,
    )
    log = celery_worker.log()
    assert "signal 9" in log or "WorkerLostError" in log, celery_worker.log_tail()
    # and the PSP's own webhook, delivered late, changes nothing
    steer(account, latency_ms=0)
    engine.deliver_due()
    # so: one payout at the PSP, sent once, one succeeded attempt, one withdraw_paid, no held money
    attempt.refresh_from_db()
    assert (attempt.status, attempt.dispatch_count) == ("succeeded", 1)
    assert SandboxPayout.objects.filter(reference=withdrawal.reference).count() == 1
    assert PayoutAttempt.objects.filter(withdrawal=withdrawal).count() == 1
    assert money_events(withdrawal) == ["withdraw_requested", "withdraw_paid"]
    assert balances(player) == (0, 0)
    assert outcomes(payout_attempt=attempt) == ["no_change"]
    assert_invariants()


def test_a_failed_payout_is_retried_by_the_worker_and_paid(player, account, live_webhooks, celery_worker):
    # given a PSP that fails the first payout only
    steer(account, payout_behavior="fail_first", fail_first=1)
    withdrawal = _approved_by_an_operator(player)
    # when the worker sends it, the failure comes back by webhook, and the worker's automatic retry sends attempt 2
    _deliver_until_paid(withdrawal, celery_worker)
    # then attempt 1 failed, attempt 2 paid it, once
    attempts = list(PayoutAttempt.objects.filter(withdrawal=withdrawal).values_list("number", "status"))
    assert attempts == [(1, "failed"), (2, "succeeded")]
    assert SandboxPayout.objects.filter(reference=withdrawal.reference).count() == 2
    assert money_events(withdrawal) == ["withdraw_requested", "withdraw_paid"]
    assert balances(player) == (0, 0)
    assert_invariants()
