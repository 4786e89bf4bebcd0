"""The periodic tasks: the payout poller (webhooks that never came) and the deposit sweeper."""

from datetime import timedelta

import pytest
from django.utils import timezone

from payouts import dispatch, tasks
from payouts.sandbox.models import SandboxPayment, SandboxPayout
from wallet.models import Deposit, PayoutAttempt, Withdrawal
from wallet.tests.api.helpers import balances
from wallet.tests.builders import AMOUNT, deposit_in_state, withdrawal_in_state
from wallet.tests.invariants import assert_invariants, expect_no_change

from .helpers import attempts_of, money_events, pending_deliveries, steer

pytestmark = pytest.mark.django_db

QUIET = timedelta(minutes=10)  # longer than PAYOUT_POLL_AFTER_SECONDS (120 s)


def _ago(delta: timedelta):
    return timezone.now() - delta


def _psp_settles(attempt: PayoutAttempt, status: str, reason: str = "") -> None:
    """The PSP decides a held payout on its side, and its webhook is lost."""
    SandboxPayout.objects.filter(idempotency_key=str(attempt.pk)).update(
        status=status, reason=reason, completed_at=timezone.now()
    )


@pytest.fixture
def held(player, account):
    """A withdrawal sent to a PSP that took it and has not said anything since."""
    steer(account, payout_behavior="hold")
    withdrawal = withdrawal_in_state("approved", player=player)
    dispatch.dispatch_payout(withdrawal.pk)
    assert pending_deliveries() == []
    return withdrawal


def _state(withdrawal) -> str:
    return Withdrawal.objects.get(pk=withdrawal.pk).state


def test_the_poller_leaves_a_recently_sent_payout_alone(held):
    with expect_no_change():
        assert tasks.poll_pending_payouts.delay().get() == 0


def test_the_poller_pays_a_payout_whose_webhook_never_came(held, player):
    # given a payout sent long ago that the PSP has since paid, but whose webhook was lost
    (attempt,) = attempts_of(held)
    PayoutAttempt.objects.filter(pk=attempt.pk).update(dispatched_at=_ago(QUIET))
    _psp_settles(attempt, "succeeded")
    # when the poller runs
    assert tasks.poll_pending_payouts.delay().get() == 1
    # then it asked the PSP and recorded the payment, without sending the payout again
    attempt.refresh_from_db()
    assert (attempt.status, attempt.dispatch_count) == ("succeeded", 1)
    assert (_state(held), balances(player)) == ("paid", (0, 0))
    assert money_events(held) == ["withdraw_requested", "withdraw_paid"]
    assert SandboxPayout.objects.count() == 1
    assert_invariants()


def test_the_poller_records_a_failure_the_psp_never_reported(held, player, tenant):
    tenant.policy.payout_retry_limit = 1
    tenant.policy.save()
    (attempt,) = attempts_of(held)
    PayoutAttempt.objects.filter(pk=attempt.pk).update(dispatched_at=_ago(QUIET))
    _psp_settles(attempt, "failed", "Account closed")
    tasks.poll_pending_payouts.delay()
    attempt.refresh_from_db()
    assert (attempt.status, attempt.failure_reason) == ("failed", "Account closed")
    assert (_state(held), balances(player)) == ("payout_failed", (0, AMOUNT))


def test_the_poller_keeps_waiting_while_the_psp_holds_the_payout(held, player):
    (attempt,) = attempts_of(held)
    PayoutAttempt.objects.filter(pk=attempt.pk).update(dispatched_at=_ago(QUIET))
    assert tasks.poll_pending_payouts.delay().get() == 1
    # the PSP still says pending: nothing changes, nothing is re-sent, no new attempt
    assert [(a.number, a.status, a.dispatch_count) for a in attempts_of(held)] == [(1, "pending", 1)]
    assert (_state(held), balances(player)) == ("payout_pending", (0, AMOUNT))
    assert SandboxPayout.objects.count() == 1


def test_the_poller_sends_an_approved_withdrawal_that_was_never_sent(player, account):
    # given an approval whose dispatch never ran (the broker was down when it committed, say)
    withdrawal = withdrawal_in_state("approved", player=player)
    Withdrawal.objects.filter(pk=withdrawal.pk).update(updated_at=_ago(QUIET))
    # when the poller runs, then the payout is sent
    assert tasks.poll_pending_payouts.delay().get() == 1
    (attempt,) = attempts_of(withdrawal)
    assert (attempt.dispatch_count, _state(withdrawal)) == (1, "payout_pending")
    assert SandboxPayout.objects.get().idempotency_key == str(attempt.pk)


# -- deposits -------------------------------------------------------------------------------


def test_the_sweeper_hands_a_stranded_deposit_to_the_psp(player):
    # given a deposit left `created` (the PSP was unreachable when the player asked) and a fresh one
    stranded = deposit_in_state("created", player=player)
    fresh = deposit_in_state("created", player=player)
    Deposit.objects.filter(pk=stranded.pk).update(created_at=_ago(timedelta(minutes=6)))
    # when the sweeper runs
    assert tasks.sweep_open_deposits.delay().get() == 1
    # then the stranded one has a checkout at the PSP; the fresh one is left to its own request
    stranded = Deposit.objects.get(pk=stranded.pk)
    payment = SandboxPayment.objects.get(reference=str(stranded.pk))
    assert (stranded.state, stranded.provider_reference) == ("pending_provider", payment.id)
    assert stranded.checkout_url.endswith(f"/checkout/{payment.id}/")
    assert Deposit.objects.get(pk=fresh.pk).state == "created"
    assert balances(player) == (0, 0)


def test_the_sweeper_leaves_a_stranded_deposit_while_the_psp_is_down(player, account):
    account.base_url = "http://127.0.0.1:9"  # nothing listens there
    account.save()
    stranded = deposit_in_state("created", player=player)
    Deposit.objects.filter(pk=stranded.pk).update(created_at=_ago(timedelta(minutes=6)))
    with expect_no_change():
        assert tasks.sweep_open_deposits.delay().get() == 0


def test_the_sweeper_fails_a_checkout_never_paid(player, settings):
    # given a checkout older than the expiry, one still within it, and a completed deposit as old
    settings.DEPOSIT_EXPIRY_SECONDS = 3600
    expired = deposit_in_state("pending_provider", player=player)
    recent = deposit_in_state("pending_provider", player=player)
    completed = deposit_in_state("completed", player=player)
    Deposit.objects.filter(pk__in=[expired.pk, completed.pk]).update(updated_at=_ago(timedelta(hours=2)))
    # when the sweeper runs
    assert tasks.sweep_open_deposits.delay().get() == 1
    # then only the expired one failed, and no money moved
    states = [Deposit.objects.get(pk=d.pk).state for d in (expired, recent, completed)]
    assert states == ["failed", "pending_provider", "completed"]
    assert balances(player) == (AMOUNT, 0)
    assert money_events(expired) == []
    assert_invariants()


def _failed_long_ago(player, account, *, retryable: bool) -> Withdrawal:
    """A withdrawal whose payout failed at the PSP a while ago, with no retry queued (it was lost)."""
    steer(account, payout_behavior="fail")
    withdrawal = withdrawal_in_state("approved", player=player)
    dispatch.dispatch_payout(withdrawal.pk)
    (attempt,) = attempts_of(withdrawal)
    from core.actors import Actor
    from wallet.services import record_payout_failed

    record_payout_failed(attempt, actor=Actor.psp("sandbox"), reason="bank down", retryable=retryable)
    Withdrawal.objects.filter(pk=withdrawal.pk).update(updated_at=_ago(QUIET))
    steer(account, payout_behavior="succeed")
    return withdrawal


def test_the_poller_retries_a_failed_payout_whose_automatic_retry_was_lost(player, account):
    # given a failed payout with attempts left whose retry never got queued
    withdrawal = _failed_long_ago(player, account, retryable=True)
    assert _state(withdrawal) == "payout_failed"
    # when the poller runs, then it opens the next attempt, which is sent
    assert tasks.poll_pending_payouts.delay().get() == 1
    assert [a.number for a in attempts_of(withdrawal)] == [1, 2]
    assert _state(withdrawal) == "payout_pending"


def test_the_poller_leaves_a_payout_the_psp_refused_to_the_operator(player, account):
    # given a payout the PSP refused outright (not retryable)
    withdrawal = _failed_long_ago(player, account, retryable=False)
    # when the poller runs, then it opens no new attempt
    assert tasks.poll_pending_payouts.delay().get() == 0
    assert len(attempts_of(withdrawal)) == 1
    assert _state(withdrawal) == "payout_failed"
