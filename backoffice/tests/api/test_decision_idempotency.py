"""Idempotency-Key on operator decisions: required, replayed byte for byte, scoped, not reusable."""

import pytest

from core.models import IdempotencyRecord
from wallet.tests.api.helpers import assert_problem, assert_validation_error, new_key, post_money
from wallet.tests.builders import set_limits, withdrawal_in_state
from wallet.tests.invariants import expect_no_change

from .helpers import DECISIONS, approvers_of, as_operator, body_of, decide, decision_url, history_of, state_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def requested(player):
    return withdrawal_in_state("requested", player=player)


@pytest.mark.parametrize("decision", DECISIONS)
def test_a_decision_without_a_key_is_refused(finance, player, decision):
    withdrawal = withdrawal_in_state(DECISIONS[decision][0], player=player)
    with expect_no_change():
        response = decide(as_operator(finance), withdrawal.pk, decision, key=None)
    assert_problem(response, 400, "IDEMPOTENCY_KEY_REQUIRED")


@pytest.mark.parametrize("key", ["", "   "])
def test_an_empty_key_counts_as_missing(finance, requested, key):
    with expect_no_change():
        assert_problem(decide(as_operator(finance), requested.pk, "approve", key=key), 400, "IDEMPOTENCY_KEY_REQUIRED")


@pytest.mark.parametrize("key", ["two words", "k" * 256, "tab\tkey"])
def test_a_malformed_key_is_a_validation_error(finance, requested, key):
    with expect_no_change():
        assert_validation_error(decide(as_operator(finance), requested.pk, "approve", key=key), "Idempotency-Key")


def test_a_replay_is_byte_identical_and_does_nothing(finance, admin, requested):
    client = as_operator(finance)
    first = decide(client, requested.pk, "approve", key="approve-1")
    assert first.status_code == 200 and "Idempotent-Replayed" not in first
    history = history_of(requested)
    # given that someone else has since paid it by hand
    assert decide(as_operator(admin), requested.pk, "mark-paid").status_code == 200
    # when the same request is sent again with the same key (key order and spacing aside)
    with expect_no_change():
        again = client.post(
            decision_url(requested.pk, "approve"),
            data='{ "reason" :  "KYC documents checked" }',
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="approve-1",
        )
    # then the stored answer comes back byte for byte, marked as a replay, and nothing happened
    assert (again.status_code, again.content, again["Idempotent-Replayed"]) == (200, first.content, "true")
    assert again["Content-Type"] == first["Content-Type"]
    assert body_of(again)["state"] == "approved"  # the stored answer, not today's state
    assert history_of(requested) == [*history, ("approved", "paid")]


def test_the_same_key_with_another_reason_or_withdrawal_is_422(finance, player, requested):
    client = as_operator(finance)
    assert decide(client, requested.pk, "reject", "first reason", key="k-1").status_code == 200
    other = withdrawal_in_state("requested", player=player)
    # when the key comes back with another reason, or for another withdrawal, then 422 and nothing is done
    for target, reason in ((requested, "second reason"), (other, "first reason")):
        with expect_no_change():
            response = decide(client, target.pk, "reject", reason, key="k-1")
        assert_problem(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert state_of(other) == "requested"


def test_a_key_is_scoped_to_operation_and_operator(tenant, finance, finance2, player):
    # given a withdrawal that needs two approvals
    set_limits(tenant, four_eyes_amount=10_00)
    withdrawal = withdrawal_in_state("requested", player=player)
    # when two operators approve with the same key, then each is their own request
    for user in (finance, finance2):
        response = decide(as_operator(user), withdrawal.pk, "approve", key="shared")
        assert response.status_code == 200 and "Idempotent-Replayed" not in response
    assert approvers_of(withdrawal) == [finance.pk, finance2.pk]
    assert state_of(withdrawal) == "approved"
    # and the same operator's key for another operation is a new request (here: refused for its state)
    body = assert_problem(
        decide(as_operator(finance), withdrawal.pk, "reject", key="shared"), 409, "ILLEGAL_TRANSACTION_STATE_TRANSITION"
    )
    assert body["from_state"] == "approved"


def test_a_409_refusal_is_stored_and_replayed(finance, admin, requested):
    client = as_operator(finance)
    # given mark-paid refused for a withdrawal still awaiting review
    first = decide(client, requested.pk, "mark-paid", key="pay-1")
    assert_problem(first, 409, "ILLEGAL_TRANSACTION_STATE_TRANSITION")
    # and the withdrawal approved since
    assert decide(as_operator(admin), requested.pk, "approve").status_code == 200
    # when the same request is retried with the same key, then the stored 409 is replayed and nothing is paid
    with expect_no_change():
        again = decide(client, requested.pk, "mark-paid", key="pay-1")
    assert (again.status_code, again.content, again["Idempotent-Replayed"]) == (409, first.content, "true")
    assert state_of(requested) == "approved"


def test_refusals_before_acting_keep_the_key_free(finance, requested):
    client = as_operator(finance)
    records = IdempotencyRecord.objects.count()
    # 400 (no reason) and 404 (no such withdrawal) are not stored
    assert_problem(decide(client, requested.pk, "approve", "", key="free"), 400, "REVIEW_REASON_REQUIRED")
    assert_problem(
        post_money(client, decision_url("not-an-id", "approve"), {"reason": "x"}, key="free"), 404, "NOT_FOUND"
    )
    assert IdempotencyRecord.objects.count() == records
    # so the key still works for the corrected request
    response = decide(client, requested.pk, "approve", key="free")
    assert response.status_code == 200 and "Idempotent-Replayed" not in response
    assert IdempotencyRecord.objects.get(key="free").response_status == 200


def test_a_fresh_key_is_recorded_for_the_operator_and_operation(tenant, finance, requested):
    key = new_key()
    decide(as_operator(finance), requested.pk, "approve", key=key)
    record = IdempotencyRecord.objects.get(key=key)
    assert (record.tenant_id, record.caller_id, record.operation, record.status) == (
        tenant.pk,
        finance.pk,
        "admin.withdrawals.approve",
        "completed",
    )
