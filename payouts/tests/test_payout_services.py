"""Payout attempts: start, outcome, retry within the tenant's limit and cooldown, conflicts."""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import NotFound
from core.models import AuditEvent
from wallet.errors import PayoutCooldownActive, PayoutOutcomeConflict, PayoutRetryLimitReached
from wallet.models import PayoutAttempt, Withdrawal
from wallet.services import record_payout_failed, record_payout_succeeded, reject_withdrawal, retry_payout, start_payout
from wallet.tests.builders import AMOUNT, PSP, REASON, SYSTEM, operator_of, pending_attempt, withdrawal_in_state
from wallet.tests.invariants import assert_invariants, expect_no_change, record_effects

pytestmark = pytest.mark.django_db


def _policy(withdrawal, **fields):
    policy = withdrawal.tenant.policy
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.save()


def _retry(withdrawal):
    return retry_payout(withdrawal, actor=operator_of(withdrawal.tenant), reason=REASON, provider="sandbox")


def test_start_opens_attempt_one_under_a_uuid():
    # given an approved withdrawal
    withdrawal = withdrawal_in_state("approved")
    # when the payout starts
    with record_effects(withdrawal.wallet) as effects:
        attempt = start_payout(withdrawal, actor=SYSTEM, provider="sandbox")
    # then attempt 1 is pending under a UUID (the PSP idempotency key) and no money moved
    assert isinstance(attempt.pk, uuid.UUID)
    assert (attempt.number, attempt.status, attempt.provider) == (1, "pending", "sandbox")
    assert (attempt.withdrawal_id, attempt.tenant_id) == (withdrawal.pk, withdrawal.tenant_id)
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "payout_pending"
    assert (effects.ledger, effects.available, effects.held) == ([], 0, 0)
    assert effects.audit == ["payout_attempt.created", "withdrawal.payout_pending"]
    created = AuditEvent.objects.get(action="payout_attempt.created")
    assert (created.target_type, created.target_id) == ("payoutattempt", str(attempt.pk))
    assert created.data == {"withdrawal": str(withdrawal.pk), "number": 1, "provider": "sandbox"}


def test_start_is_idempotent_while_the_attempt_is_pending():
    # given a payout already started
    withdrawal = withdrawal_in_state("approved")
    first = start_payout(withdrawal, actor=SYSTEM)
    # when it is started again (a retried task, say), then the same attempt comes back and nothing is written
    with expect_no_change():
        again = start_payout(withdrawal, actor=SYSTEM)
    assert again.pk == first.pk
    assert PayoutAttempt.objects.filter(withdrawal=withdrawal).count() == 1


def test_success_pays_exactly_once():
    # given a pending payout
    withdrawal = withdrawal_in_state("payout_pending")
    attempt = pending_attempt(withdrawal)
    # when the PSP reports success
    with record_effects(withdrawal.wallet) as effects:
        record_payout_succeeded(attempt, actor=PSP, provider_reference="po-42")
    # then the held money leaves once and the attempt is closed
    attempt.refresh_from_db()
    assert (attempt.status, attempt.provider_reference) == ("succeeded", "po-42")
    assert attempt.completed_at is not None and attempt.failure_reason == ""
    assert (effects.ledger, effects.held) == (["withdraw_paid"], -AMOUNT)
    # and the same report again is a no-op
    with expect_no_change():
        repeated = record_payout_succeeded(attempt, actor=PSP, provider_reference="po-42")
    assert repeated.status == "succeeded"
    assert_invariants()


def test_failure_keeps_the_money_held_and_is_idempotent():
    withdrawal = withdrawal_in_state("payout_pending")
    attempt = pending_attempt(withdrawal)
    with record_effects(withdrawal.wallet) as effects:
        record_payout_failed(attempt, actor=PSP, reason="IBAN closed", provider_reference="po-7")
    attempt.refresh_from_db()
    assert (attempt.status, attempt.failure_reason, attempt.provider_reference) == ("failed", "IBAN closed", "po-7")
    assert (effects.ledger, effects.available, effects.held) == ([], 0, 0)
    assert Withdrawal.objects.get(pk=withdrawal.pk).wallet.balance_held == AMOUNT
    with expect_no_change():
        record_payout_failed(attempt, actor=PSP, reason="IBAN closed")
    assert_invariants()


def test_retry_opens_the_next_attempt():
    # given a payout that failed
    withdrawal = withdrawal_in_state("payout_failed")
    # when an operator retries it
    attempt = _retry(withdrawal)
    # then attempt 2 is pending and attempt 1 keeps its outcome
    statuses = list(PayoutAttempt.objects.filter(withdrawal=withdrawal).values_list("number", "status"))
    assert statuses == [(1, "failed"), (2, "pending")]
    assert attempt.number == 2
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "payout_pending"
    assert withdrawal.transitions.latest("id").reason == REASON


def test_retries_stop_at_the_tenant_limit():
    # given a tenant that allows two attempts, and a withdrawal whose two attempts failed
    withdrawal = withdrawal_in_state("payout_failed")
    _policy(withdrawal, payout_retry_limit=2)
    record_payout_failed(_retry(withdrawal), actor=PSP)
    # when an operator retries a third time, then it is refused and the refusal is audited
    with expect_no_change(audit_actions=("payout.retry_refused",)), pytest.raises(PayoutRetryLimitReached) as refused:
        _retry(withdrawal)
    assert (refused.value.error_code, refused.value.status) == ("PAYOUT_RETRY_LIMIT_REACHED", 409)
    assert refused.value.problem_fields() == {"attempts": 2, "retry_limit": 2}
    audit = AuditEvent.objects.get(action="payout.retry_refused")
    assert (audit.target_type, audit.target_id, audit.actor_type) == ("withdrawal", str(withdrawal.pk), "operator")
    assert audit.data == {"error_code": "PAYOUT_RETRY_LIMIT_REACHED", "attempts": 2, "retry_limit": 2}
    # and the money is still held, to be rejected back to the player
    reject_withdrawal(withdrawal, actor=operator_of(withdrawal.tenant), reason="PSP cannot pay this account")
    assert_invariants()


def test_retries_wait_for_the_cooldown():
    # given a tenant with a 5 minute cooldown and a payout that just failed
    withdrawal = withdrawal_in_state("payout_failed")
    _policy(withdrawal, payout_cooldown_seconds=300)
    # when an operator retries at once, then it is refused with how long to wait, and audited
    with expect_no_change(audit_actions=("payout.retry_refused",)), pytest.raises(PayoutCooldownActive) as refused:
        _retry(withdrawal)
    fields = refused.value.problem_fields()
    assert (refused.value.error_code, refused.value.status) == ("PAYOUT_COOLDOWN_ACTIVE", 409)
    assert 290 <= fields["retry_after_seconds"] <= 301 and fields["cooldown_seconds"] == 300
    assert AuditEvent.objects.get(action="payout.retry_refused").data["error_code"] == "PAYOUT_COOLDOWN_ACTIVE"
    # and once the cooldown has passed, the retry goes through
    PayoutAttempt.objects.filter(withdrawal=withdrawal).update(created_at=timezone.now() - timedelta(seconds=301))
    assert _retry(withdrawal).number == 2


@pytest.mark.parametrize(
    ("recorded", "contradiction"),
    [
        (record_payout_succeeded, lambda a: record_payout_failed(a, actor=PSP, reason="late failure")),
        (record_payout_failed, lambda a: record_payout_succeeded(a, actor=PSP)),
    ],
    ids=["failure-after-success", "success-after-failure"],
)
def test_a_contradicting_outcome_is_refused_and_changes_nothing(recorded, contradiction):
    # given an attempt whose outcome was recorded
    withdrawal = withdrawal_in_state("payout_pending")
    attempt = pending_attempt(withdrawal)
    recorded(attempt, actor=PSP)
    # when the PSP reports the opposite, then it is refused and kept for review
    conflict = "payout_attempt.conflicting_outcome"
    with expect_no_change(audit_actions=(conflict,)), pytest.raises(PayoutOutcomeConflict) as refused:
        contradiction(attempt)
    assert refused.value.error_code == "PAYOUT_OUTCOME_CONFLICT"
    stored = PayoutAttempt.objects.get(pk=attempt.pk)
    assert refused.value.problem_fields() == {
        "payout_attempt": str(attempt.pk),
        "recorded": stored.status,
        "reported": "failed" if stored.status == "succeeded" else "succeeded",
    }
    assert AuditEvent.objects.get(action=conflict).target_id == str(attempt.pk)
    assert_invariants()


def test_a_late_success_for_a_rejected_withdrawal_pays_nothing():
    # given a payout that failed and a withdrawal rejected back to the player's balance
    withdrawal = withdrawal_in_state("payout_failed")
    attempt = PayoutAttempt.objects.get(withdrawal=withdrawal)
    reject_withdrawal(withdrawal, actor=operator_of(withdrawal.tenant), reason="closed account")
    # when the PSP then claims the old attempt succeeded, then it is refused and no money leaves
    with expect_no_change(audit_actions=("payout_attempt.conflicting_outcome",)), pytest.raises(PayoutOutcomeConflict):
        record_payout_succeeded(attempt, actor=PSP)
    assert_invariants()


def test_reject_after_a_failed_payout_releases_the_held_money():
    withdrawal = withdrawal_in_state("payout_failed")
    with record_effects(withdrawal.wallet) as effects:
        reject_withdrawal(withdrawal, actor=operator_of(withdrawal.tenant), reason="PSP refuses this bank")
    assert (effects.ledger, effects.available, effects.held) == (["withdraw_released"], +AMOUNT, -AMOUNT)
    assert effects.history == [("payout_failed", "rejected")]
    assert_invariants()


def test_an_unknown_attempt_is_not_found():
    with expect_no_change(), pytest.raises(NotFound):
        record_payout_succeeded(uuid.uuid4(), actor=PSP)


@pytest.mark.parametrize("status", ["pending", "succeeded"])
def test_the_database_allows_one_pending_and_one_successful_attempt_per_withdrawal(status):
    # given a withdrawal with an attempt in `status`
    withdrawal = withdrawal_in_state("payout_pending")
    if status == "succeeded":
        record_payout_succeeded(pending_attempt(withdrawal), actor=PSP)
    # when a second attempt in the same status is written directly, then a unique index refuses it
    with pytest.raises(IntegrityError, match=f"payout_one_{'pending' if status == 'pending' else 'success'}"):
        with transaction.atomic():
            PayoutAttempt.objects.create(tenant=withdrawal.tenant, withdrawal=withdrawal, number=9, status=status)
