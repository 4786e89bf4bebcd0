"""Webhooks sent by the sandbox to the product on a live server, with Celery inline (one process)."""

import pytest

from payouts.sandbox import engine
from payouts.sandbox.models import SandboxDelivery
from wallet.models import PayoutAttempt, Withdrawal
from wallet.tests.api.helpers import balances
from wallet.tests.builders import withdrawal_in_state
from wallet.tests.invariants import assert_invariants

from .helpers import money_events, steer

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_failure_webhook_whose_handling_sends_the_next_payout_is_delivered_at_once(player, account, live_webhooks):
    # given a PSP that fails the first payout only, and an approved withdrawal (dispatched inline on commit)
    steer(account, payout_behavior="fail_first", fail_first=1)
    withdrawal = withdrawal_in_state("approved", player=player)
    assert [d.event_type for d in SandboxDelivery.objects.all()] == ["payout.failed"]
    # when the PSP sends payout.failed, whose handling retries at once and sends attempt 2 to the same PSP
    assert engine.deliver_due() == 1
    # then the delivery succeeded: the sender did not hold the merchant row the receiver's payout needs
    # (it used to, so the receiver waited for the sender, whose request timed out after 5 s)
    first = SandboxDelivery.objects.get(event_type="payout.failed")
    assert (first.last_status, first.last_error, first.attempts) == (200, "", 1)
    # and once attempt 2's success is delivered, the withdrawal is paid once
    assert engine.deliver_due() == 1
    assert list(PayoutAttempt.objects.filter(withdrawal=withdrawal).values_list("number", "status")) == [
        (1, "failed"),
        (2, "succeeded"),
    ]
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "paid"
    assert money_events(withdrawal) == ["withdraw_requested", "withdraw_paid"]
    assert balances(player) == (0, 0)
    assert_invariants()
