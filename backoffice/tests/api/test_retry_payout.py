"""retry-payout through the API: the tenant's retry limit and cooldown bound the operator too."""

import pytest

from core.models import AuditEvent
from tenants.models import PaymentPolicy
from wallet.models import PayoutAttempt
from wallet.services import record_payout_failed
from wallet.tests.api.helpers import assert_problem, new_key
from wallet.tests.builders import PSP, pending_attempt, withdrawal_in_state
from wallet.tests.invariants import expect_no_change

from .helpers import as_operator, body_of, decide, state_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed(player):
    """A withdrawal whose first payout attempt failed: money held, waiting for a decision."""
    return withdrawal_in_state("payout_failed", player=player)


def _policy(tenant, *, limit: int, cooldown: int) -> None:
    PaymentPolicy.objects.filter(tenant=tenant).update(payout_retry_limit=limit, payout_cooldown_seconds=cooldown)


def _attempts(withdrawal) -> list[tuple[int, str]]:
    rows = PayoutAttempt.objects.filter(withdrawal_id=withdrawal.pk).order_by("number")
    return list(rows.values_list("number", "status"))


def test_retries_are_refused_once_the_limit_is_used_up(tenant, finance, failed):
    # given a casino allowing two attempts per withdrawal, and a withdrawal whose attempt 1 failed
    _policy(tenant, limit=2, cooldown=0)
    client = as_operator(finance)
    # when the operator retries, then attempt 2 opens
    assert body_of(decide(client, failed.pk, "retry-payout"))["state"] == "payout_pending"
    record_payout_failed(pending_attempt(failed), actor=PSP, reason="still unreachable")
    # when attempt 2 failed too and the operator retries again, then 409 PAYOUT_RETRY_LIMIT_REACHED
    with expect_no_change(audit_actions=("payout.retry_refused",)):
        response = decide(client, failed.pk, "retry-payout", "one more time")
    body = assert_problem(response, 409, "PAYOUT_RETRY_LIMIT_REACHED")
    assert (body["attempts"], body["retry_limit"]) == (2, 2)
    assert _attempts(failed) == [(1, "failed"), (2, "failed")]
    assert state_of(failed) == "payout_failed"
    # and the refusal is in the audit trail, naming the operator and the code
    event = AuditEvent.objects.filter(action="payout.retry_refused").latest("id")
    assert (event.actor_user_id, event.target_id, event.data["error_code"]) == (
        finance.pk,
        str(failed.pk),
        "PAYOUT_RETRY_LIMIT_REACHED",
    )
    # and rejecting is still possible, releasing the money
    assert body_of(decide(client, failed.pk, "reject"))["state"] == "rejected"


def test_a_retry_inside_the_cooldown_is_refused_with_the_time_left(tenant, finance, failed):
    # given a five-minute cooldown since the failed attempt
    _policy(tenant, limit=3, cooldown=300)
    key = new_key()
    # when the operator retries at once, then 409 PAYOUT_COOLDOWN_ACTIVE with retry_after_seconds
    with expect_no_change(audit_actions=("payout.retry_refused",)):
        response = decide(as_operator(finance), failed.pk, "retry-payout", key=key)
    body = assert_problem(response, 409, "PAYOUT_COOLDOWN_ACTIVE")
    assert 295 <= body["retry_after_seconds"] <= 301
    assert body["cooldown_seconds"] == 300
    assert _attempts(failed) == [(1, "failed")]
    # and the refusal is an outcome: the same key replays it even once the cooldown is lifted
    _policy(tenant, limit=3, cooldown=0)
    with expect_no_change():
        again = decide(as_operator(finance), failed.pk, "retry-payout", key=key)
    assert (again.status_code, again.content, again["Idempotent-Replayed"]) == (409, response.content, "true")
    # while a new key retries
    assert body_of(decide(as_operator(finance), failed.pk, "retry-payout"))["state"] == "payout_pending"
    assert _attempts(failed) == [(1, "failed"), (2, "pending")]
