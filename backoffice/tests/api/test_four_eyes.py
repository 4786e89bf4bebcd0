"""The four-eyes rule through the API: two different approvers at or above the threshold,
nobody approves what they requested, nobody pays what they approved."""

import pytest

from core.actors import Actor
from tenants.tests.factories import OperatorFactory
from wallet.models import Withdrawal
from wallet.services import request_withdrawal
from wallet.tests.api.helpers import assert_problem
from wallet.tests.builders import set_limits, withdrawal_in_state
from wallet.tests.factories import fund
from wallet.tests.invariants import Effects, expect_no_change, record_effects

from .helpers import (
    QUEUE,
    approvers_of,
    as_operator,
    audit_since,
    body_of,
    decide,
    detail_url,
    history_of,
    last_audit_id,
    state_of,
)

pytestmark = pytest.mark.django_db

THRESHOLD = 100_00


@pytest.fixture
def four_eyes(tenant):
    return set_limits(tenant, four_eyes_amount=THRESHOLD)


@pytest.fixture
def large(four_eyes, player):
    """A withdrawal exactly at the four-eyes amount."""
    return withdrawal_in_state("requested", player=player, amount=THRESHOLD)


def _queue_row(client, withdrawal) -> dict:
    (row,) = [r for r in body_of(client.get(QUEUE))["results"] if r["id"] == str(withdrawal.pk)]
    return row


def test_below_the_threshold_one_approval_suffices(four_eyes, finance, player):
    withdrawal = withdrawal_in_state("requested", player=player, amount=THRESHOLD - 1)
    body = body_of(decide(as_operator(finance), withdrawal.pk, "approve"))
    assert (body["state"], body["approvals"], body["approvals_required"]) == ("approved", 1, 1)
    assert body["awaiting_second_approval"] is False


def test_at_the_threshold_the_first_approval_waits_for_a_second(finance, large):
    client = as_operator(finance)
    mark = last_audit_id()
    # when the first finance operator approves
    with record_effects(large.wallet) as effects:
        response = decide(client, large.pk, "approve", "first look: fine")
    # then it stays requested, awaiting a second approval, with the approval recorded and audited
    assert response.status_code == 200, response.content
    body = body_of(response)
    assert (body["state"], body["approvals"], body["approvals_required"]) == ("requested", 1, 2)
    assert body["awaiting_second_approval"] is True
    assert effects == Effects(audit=["withdrawal.approval_recorded"])
    (event,) = audit_since(mark)
    assert (event.actor_user_id, event.reason, event.data) == (
        finance.pk,
        "first look: fine",
        {"approvals": 1, "required": 2},
    )
    assert (event.before_state, event.after_state, event.target_id) == ("requested", "requested", str(large.pk))
    # and the queue shows it as awaiting the second approval
    row = _queue_row(client, large)
    assert (row["state"], row["approvals"], row["approvals_required"], row["awaiting_second_approval"]) == (
        "requested",
        1,
        2,
        True,
    )
    waiting = body_of(client.get(QUEUE, {"awaiting_second_approval": "true"}))["results"]
    assert [r["id"] for r in waiting] == [str(large.pk)]


def test_the_same_operator_cannot_give_the_second_approval(finance, large):
    client = as_operator(finance)
    decide(client, large.pk, "approve")
    # when the same operator approves again (a new key), then 409 FOUR_EYES_VIOLATION and nothing changes
    with expect_no_change():
        response = decide(client, large.pk, "approve", "really sure")
    body = assert_problem(response, 409, "FOUR_EYES_VIOLATION")
    assert (body["approvals"], body["required"]) == (1, 2)
    assert approvers_of(large) == [finance.pk]
    assert state_of(large) == "requested"


def test_a_second_finance_operator_completes_it(finance, finance2, large):
    decide(as_operator(finance), large.pk, "approve")
    with record_effects(large.wallet) as effects:
        response = decide(as_operator(finance2), large.pk, "approve", "second look: fine")
    body = body_of(response)
    assert (body["state"], body["approvals"], body["approvals_required"]) == ("approved", 2, 2)
    assert body["awaiting_second_approval"] is False
    assert effects == Effects(history=[("requested", "approved")], audit=["withdrawal.approved"])
    assert approvers_of(large) == [finance.pk, finance2.pk]
    # and the detail lists both approvals in order
    detail = body_of(as_operator(finance).get(detail_url(large.pk)))
    assert [(a["operator"], a["reason"]) for a in detail["approvals"]] == [
        (finance.pk, "KYC documents checked"),
        (finance2.pk, "second look: fine"),
    ]


def test_a_platform_superuser_can_be_the_second_approver(finance, superuser, large):
    decide(as_operator(finance), large.pk, "approve")
    assert body_of(decide(as_operator(superuser), large.pk, "approve"))["state"] == "approved"


@pytest.mark.parametrize("amount", [THRESHOLD - 1, THRESHOLD])
def test_the_requester_can_never_approve_nor_pay(four_eyes, tenant, finance, finance2, admin, player, amount):
    # given a withdrawal a finance operator requested on the player's behalf
    requester = OperatorFactory(tenant=tenant).user
    fund(player, amount)
    withdrawal = request_withdrawal(player=player, amount=amount, currency="EUR", actor=Actor.operator(requester))
    assert Withdrawal.objects.get(pk=withdrawal.pk).requested_by_id == requester.pk
    client = as_operator(requester)
    # when the requester approves it, then 409 FOUR_EYES_VIOLATION, whatever the amount, and nothing changes
    with expect_no_change():
        assert_problem(decide(client, withdrawal.pk, "approve"), 409, "FOUR_EYES_VIOLATION")
    # and once others approved it, the requester cannot mark it paid either
    decide(as_operator(finance), withdrawal.pk, "approve")
    if amount >= THRESHOLD:
        decide(as_operator(finance2), withdrawal.pk, "approve")
    assert state_of(withdrawal) == "approved"
    with expect_no_change():
        assert_problem(decide(client, withdrawal.pk, "mark-paid"), 409, "FOUR_EYES_VIOLATION")
    # but a third operator can
    assert body_of(decide(as_operator(admin), withdrawal.pk, "mark-paid"))["state"] == "paid"


def test_an_approver_can_never_mark_paid_and_a_third_operator_can(finance, finance2, admin, large):
    for user in (finance, finance2):
        decide(as_operator(user), large.pk, "approve")
    # when either approver marks it paid, then 409 FOUR_EYES_VIOLATION and nothing changes
    for user in (finance, finance2):
        with expect_no_change():
            assert_problem(decide(as_operator(user), large.pk, "mark-paid"), 409, "FOUR_EYES_VIOLATION")
    # when a third operator does, then it is paid
    response = decide(as_operator(admin), large.pk, "mark-paid", "Paid by wire")
    assert body_of(response)["state"] == "paid"
    assert history_of(large)[-1] == ("approved", "paid")


def test_an_approver_of_a_small_withdrawal_cannot_mark_it_paid(finance, admin, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    decide(as_operator(finance), withdrawal.pk, "approve")
    with expect_no_change():
        assert_problem(decide(as_operator(finance), withdrawal.pk, "mark-paid"), 409, "FOUR_EYES_VIOLATION")
    assert body_of(decide(as_operator(admin), withdrawal.pk, "mark-paid"))["state"] == "paid"


def test_the_four_eyes_problem_type_is_documented(finance, large, client):
    decide(as_operator(finance), large.pk, "approve")
    body = assert_problem(decide(as_operator(finance), large.pk, "approve"), 409, "FOUR_EYES_VIOLATION")
    # the problem's type URI names a known problem type with its own title
    described = client.get(body["type"])
    assert described.status_code == 200, (body["type"], described.status_code)
    assert body_of(described)["title"] == body["title"] != "Request refused"
