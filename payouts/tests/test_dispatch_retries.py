"""Automatic and operator retries of a failed payout, bounded by the tenant's retry limit and cooldown.

A payout.failed webhook schedules the automatic retry after commit; here the commit
callbacks run inline (django_capture_on_commit_callbacks) and Celery runs eagerly.
"""

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from core.models import AuditEvent
from payouts import dispatch, tasks
from payouts.sandbox.models import SandboxPayout
from tenants.tests.factories import OperatorFactory
from wallet.errors import PayoutCooldownActive, PayoutRetryLimitReached
from wallet.models import PayoutAttempt, Withdrawal
from wallet.services import retry_payout
from wallet.tests.api.helpers import assert_problem, balances, client_for, post_money
from wallet.tests.builders import AMOUNT, REASON, operator_of, withdrawal_in_state
from wallet.tests.invariants import assert_invariants, expect_no_change

from .helpers import attempts_of, deliver_all, money_events, pending_deliveries, run_task_once, steer

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(tenant):
    def set_policy(*, limit: int, cooldown: int):
        tenant.policy.payout_retry_limit, tenant.policy.payout_cooldown_seconds = limit, cooldown
        tenant.policy.save()

    return set_policy


@pytest.fixture
def approved(player):
    return withdrawal_in_state("approved", player=player)


def _deliver_with_follow_ups(web, capture) -> None:
    """Deliver the PSP's webhooks one round at a time, running what each commit queues (retries, sends)."""
    for _ in range(10):
        if not pending_deliveries():
            return
        with capture(execute=True):
            deliver_all(web)
    raise AssertionError("webhooks kept coming")


def _state(withdrawal) -> str:
    return Withdrawal.objects.get(pk=withdrawal.pk).state


def _statuses(withdrawal) -> list[tuple[int, str]]:
    return [(a.number, a.status) for a in attempts_of(withdrawal)]


def test_after_a_failure_the_next_attempt_is_sent_automatically_and_pays(
    web, approved, player, account, policy, django_capture_on_commit_callbacks
):
    # given a PSP that fails the first payout only, and a policy of 3 attempts without cooldown
    policy(limit=3, cooldown=0)
    steer(account, payout_behavior="fail_first", fail_first=1)
    # when the payout is sent and the PSP's webhooks arrive
    dispatch.dispatch_payout(approved.pk)
    _deliver_with_follow_ups(web, django_capture_on_commit_callbacks)
    # then attempt 1 failed, attempt 2 was opened and sent by itself and paid: one withdraw_paid
    assert _statuses(approved) == [(1, "failed"), (2, "succeeded")]
    first, second = attempts_of(approved)
    keys = set(SandboxPayout.objects.values_list("idempotency_key", flat=True))
    assert keys == {str(first.pk), str(second.pk)}  # each attempt its own idempotency key
    assert (_state(approved), balances(player)) == ("paid", (0, 0))
    assert money_events(approved) == ["withdraw_requested", "withdraw_paid"]
    assert_invariants()


def test_automatic_retries_stop_at_the_tenant_limit_and_keep_the_money_held(
    web, approved, player, account, policy, django_capture_on_commit_callbacks
):
    # given a PSP that fails every payout and a limit of 3 attempts
    policy(limit=3, cooldown=0)
    steer(account, payout_behavior="fail")
    # when the payout is sent and every failure is reported
    dispatch.dispatch_payout(approved.pk)
    _deliver_with_follow_ups(web, django_capture_on_commit_callbacks)
    # then exactly three attempts were made, all failed, and the money is still held
    assert _statuses(approved) == [(1, "failed"), (2, "failed"), (3, "failed")]
    assert SandboxPayout.objects.count() == 3
    assert (_state(approved), balances(player), money_events(approved)) == (
        "payout_failed",
        (0, AMOUNT),
        ["withdraw_requested"],
    )
    # and an operator retry is refused alike, changing nothing but the audit trail
    with expect_no_change(audit_actions=("payout.retry_refused",)), pytest.raises(PayoutRetryLimitReached) as refusal:
        retry_payout(approved, actor=operator_of(approved.tenant), reason=REASON)
    assert refusal.value.problem_fields() == {"attempts": 3, "retry_limit": 3}
    assert_invariants()


def test_the_automatic_retry_waits_for_the_cooldown(
    web, approved, player, account, policy, django_capture_on_commit_callbacks
):
    # given a cooldown of 60 s between attempts and a PSP that fails the first payout only
    policy(limit=3, cooldown=60)
    steer(account, payout_behavior="fail_first", fail_first=1)
    dispatch.dispatch_payout(approved.pk)
    # when the failure arrives
    with django_capture_on_commit_callbacks(execute=False) as queued:
        deliver_all(web)
    # then its commit queues the automatic retry
    assert len(queued) == 1
    # and when that retry runs inside the cooldown, it opens no attempt and asks Celery to come back in 60 s
    with pytest.raises(Retry) as retry:
        run_task_once(tasks.retry_failed_payout, str(approved.pk))
    assert 59 <= retry.value.when <= 61
    assert _statuses(approved) == [(1, "failed")]
    refused = AuditEvent.objects.get(action="payout.retry_refused")
    assert (refused.actor_label, refused.data["error_code"]) == ("automatic-retry", "PAYOUT_COOLDOWN_ACTIVE")
    # when the cooldown has passed
    PayoutAttempt.objects.filter(withdrawal=approved).update(created_at=timezone.now() - timedelta(seconds=61))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.retry_failed_payout.apply(args=(str(approved.pk),)).get() == "new attempt opened"
    # then attempt 2 is opened and sent, and its success pays the withdrawal
    assert _statuses(approved) == [(1, "failed"), (2, "pending")]
    assert attempts_of(approved)[1].dispatch_count == 1
    _deliver_with_follow_ups(web, django_capture_on_commit_callbacks)
    assert (_state(approved), balances(player)) == ("paid", (0, 0))


def _first_attempt_failed(web, withdrawal, account) -> None:
    """The PSP failed attempt 1 (what the failure's commit would queue is not run here)."""
    steer(account, payout_behavior="fail")
    dispatch.dispatch_payout(withdrawal.pk)
    deliver_all(web)
    assert _statuses(withdrawal) == [(1, "failed")]


def test_an_operator_retry_inside_the_cooldown_is_refused(web, approved, account, policy):
    # given a failed first attempt and a 5-minute cooldown
    policy(limit=3, cooldown=300)
    _first_attempt_failed(web, approved, account)
    # when an operator retries at once, then it is refused with the time left, and nothing changes
    with expect_no_change(audit_actions=("payout.retry_refused",)), pytest.raises(PayoutCooldownActive) as refusal:
        retry_payout(approved, actor=operator_of(approved.tenant), reason=REASON)
    assert 299 <= refusal.value.fields["retry_after_seconds"] <= 301


def test_the_operator_api_answers_409_for_limit_and_cooldown(web, approved, account, policy, clean_throttle):
    # given a withdrawal whose only attempt failed, and an operator of the casino
    _first_attempt_failed(web, approved, account)
    operator = client_for(OperatorFactory(tenant=approved.tenant).user)
    url = f"/api/v1/admin/withdrawals/{approved.pk}/retry-payout/"
    # when the cooldown is running, then 409 PAYOUT_COOLDOWN_ACTIVE with retry_after_seconds
    policy(limit=3, cooldown=300)
    with expect_no_change(audit_actions=("payout.retry_refused",)):
        body = assert_problem(post_money(operator, url, {"reason": REASON}), 409, "PAYOUT_COOLDOWN_ACTIVE")
    assert body["retry_after_seconds"] > 0
    # when the limit is used up, then 409 PAYOUT_RETRY_LIMIT_REACHED
    policy(limit=1, cooldown=0)
    with expect_no_change(audit_actions=("payout.retry_refused",)):
        body = assert_problem(post_money(operator, url, {"reason": REASON}), 409, "PAYOUT_RETRY_LIMIT_REACHED")
    assert (body["attempts"], body["retry_limit"]) == (1, 1)
    # and within both, the operator's retry opens attempt 2
    policy(limit=3, cooldown=0)
    response = post_money(operator, url, {"reason": REASON})
    assert response.status_code == 200, response.content
    assert _statuses(approved) == [(1, "failed"), (2, "pending")]
