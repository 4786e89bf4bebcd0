"""Payment policy maker-checker: tightening applies at once, loosening waits for a second admin."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tenants.models import PolicyChange
from tenants.services import expire_due_policy_changes, policy_as_dict
from tenants.tests.factories import OperatorFactory
from wallet.tests.api.helpers import assert_problem
from wallet.tests.builders import set_limits, withdrawal_in_state
from wallet.tests.staff import ADMIN

from .helpers import (
    NO_LIMITS,
    POLICY,
    as_operator,
    audit_since,
    body_of,
    change_url,
    decide,
    last_audit_id,
    policy_body,
)

pytestmark = pytest.mark.django_db

CHANGES = f"{POLICY}changes/"


def put(user, body):
    return as_operator(user).put(POLICY, body, format="json")


def approve(user, change_id, reason="Agreed"):
    return as_operator(user).post(change_url(change_id, "approve"), {"reason": reason}, format="json")


def reject(user, change_id, reason="Not now"):
    return as_operator(user).post(change_url(change_id, "reject"), {"reason": reason}, format="json")


def request_raise(admin, tenant, *, to="2000.00"):
    """The tenant has a 1000.00 EUR daily withdrawal limit; `admin` asks to raise it."""
    set_limits(tenant, "EUR", daily_withdraw_limit=1000_00)
    response = put(admin, policy_body(EUR={"daily_withdraw_limit": to}, reason="VIP season"))
    assert response.status_code == 202, response.content
    return body_of(response)


def eur_limit(tenant):
    tenant.policy.refresh_from_db()
    return tenant.policy.currency_limits.get(currency="EUR").daily_withdraw_limit


def test_a_loosening_change_waits_and_the_policy_stays_as_it_was(admin, tenant):
    set_limits(tenant, "EUR", daily_withdraw_limit=1000_00, four_eyes_amount=500_00)
    before, mark = policy_as_dict(tenant.policy), last_audit_id()
    # when the admin removes the four-eyes amount (the control that makes a second approver necessary)
    response = put(admin, policy_body(EUR={"daily_withdraw_limit": "1000.00"}, reason="Fewer approvals"))
    # then it is 202 with the change, and nothing applies
    assert response.status_code == 202, response.content
    body = body_of(response)
    assert body["state"] == "pending_approval"
    assert body["changes"] == [{"field": "four_eyes_amount", "currency": "EUR", "before": "500.00", "after": None}]
    assert body["requested_by"] == admin.username
    assert body["reason"] == "Fewer approvals"
    expires = timezone.datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=71, minutes=59) < expires - timezone.now() <= timedelta(hours=72)
    assert policy_as_dict(tenant.policy) == before
    (event,) = audit_since(mark)
    assert (event.action, event.actor_user_id, event.after_state) == (
        "policy.change_requested",
        admin.pk,
        "pending_approval",
    )
    assert event.data["changes"] == [{"field": "four_eyes_amount", "currency": "EUR", "before": 500_00, "after": None}]


def test_the_four_eyes_amount_cannot_be_switched_off_and_used_alone(admin, finance, finance2, tenant, player):
    # given a withdrawal above the four-eyes amount, and the admin's pending removal of that amount
    set_limits(tenant, "EUR", four_eyes_amount=500_00)
    withdrawal = withdrawal_in_state("requested", player=player, amount=800_00)
    assert put(admin, policy_body(reason="remove four eyes")).status_code == 202
    # then one finance approval is still not enough
    body = body_of(decide(as_operator(finance), withdrawal.pk, "approve"))
    assert (body["state"], body["approvals_required"]) == ("requested", 2)
    assert body_of(decide(as_operator(finance2), withdrawal.pk, "approve"))["state"] == "approved"


def test_a_mixed_change_waits_as_a_whole(admin, tenant):
    set_limits(tenant, "EUR", daily_withdraw_limit=1000_00, daily_deposit_limit=1000_00)
    response = put(
        admin, policy_body(EUR={"daily_withdraw_limit": "500.00", "daily_deposit_limit": "2000.00"}, reason="mix")
    )
    assert response.status_code == 202
    assert {c["field"] for c in body_of(response)["changes"]} == {"daily_withdraw_limit", "daily_deposit_limit"}
    assert eur_limit(tenant) == 1000_00  # the tightening half waits too


def test_the_requester_cannot_approve_their_own_change(admin, tenant):
    change = request_raise(admin, tenant)
    mark = last_audit_id()
    assert_problem(approve(admin, change["id"]), 409, "FOUR_EYES_VIOLATION")
    assert eur_limit(tenant) == 1000_00
    assert PolicyChange.objects.get(pk=change["id"]).state == "pending_approval"
    assert audit_since(mark) == []


def test_a_second_admin_approves_and_the_change_applies_with_before_and_after(admin, admin2, tenant):
    change = request_raise(admin, tenant)
    before, mark = policy_as_dict(tenant.policy), last_audit_id()
    response = approve(admin2, change["id"], "Seasonal raise agreed")
    assert response.status_code == 200, response.content
    body = body_of(response)
    assert (body["state"], body["decided_by"], body["decision_reason"]) == (
        "approved",
        admin2.username,
        "Seasonal raise agreed",
    )
    assert eur_limit(tenant) == 2000_00
    (event,) = audit_since(mark)
    assert (event.action, event.actor_user_id, event.before_state, event.after_state) == (
        "policy.change_approved",
        admin2.pk,
        "pending_approval",
        "approved",
    )
    assert event.data["before"] == before
    assert event.data["after"]["currency_limits"] == [{"currency": "EUR", **NO_LIMITS, "daily_withdraw_limit": 2000_00}]
    # approving it again changes nothing
    assert approve(admin2, change["id"]).status_code == 200
    assert audit_since(mark) == [event]


def test_a_platform_superuser_may_approve(admin, superuser, tenant):
    change = request_raise(admin, tenant)
    assert approve(superuser, change["id"]).status_code == 200
    assert eur_limit(tenant) == 2000_00


def test_only_admins_decide_and_another_tenants_change_is_not_found(admin, finance, viewer, other_tenant, tenant):
    change = request_raise(admin, tenant)
    for user in (finance, viewer):
        assert_problem(approve(user, change["id"]), 403, "PERMISSION_DENIED")
        assert_problem(reject(user, change["id"]), 403, "PERMISSION_DENIED")
    foreign_admin = OperatorFactory(tenant=other_tenant, role=ADMIN).user
    assert_problem(approve(foreign_admin, change["id"]), 404, "NOT_FOUND")
    assert_problem(approve(foreign_admin, 999_999), 404, "NOT_FOUND")
    assert eur_limit(tenant) == 1000_00


@pytest.mark.parametrize("act", [approve, reject])
@pytest.mark.parametrize("reason", ["", "   "])
def test_a_decision_needs_a_reason(act, reason, admin, admin2, tenant):
    change = request_raise(admin, tenant)
    assert_problem(act(admin2, change["id"], reason), 400, "REVIEW_REASON_REQUIRED")
    assert PolicyChange.objects.get(pk=change["id"]).state == "pending_approval"


def test_one_pending_change_per_tenant_but_tightening_still_applies(admin, admin2, tenant):
    first = request_raise(admin, tenant)
    # a second loosening change, by anyone, is refused while the first waits
    second = put(admin2, policy_body(EUR={"daily_withdraw_limit": "3000.00"}, reason="even more"))
    assert assert_problem(second, 409, "POLICY_CHANGE_PENDING")["pending_change"] == first["id"]
    # tightening is not held back
    tighter = put(admin2, policy_body(EUR={"daily_withdraw_limit": "800.00"}, reason="incident"))
    assert tighter.status_code == 200, tighter.content
    assert eur_limit(tenant) == 800_00
    # and the pending raise, computed against 1000.00, is now stale: approving it would not do what was shown
    stale = assert_problem(approve(admin2, first["id"]), 409, "POLICY_CHANGE_STALE")
    assert stale["changed_fields"] == [{"field": "daily_withdraw_limit", "currency": "EUR"}]
    assert eur_limit(tenant) == 800_00


def test_a_rejected_change_never_applies_and_the_requester_may_withdraw_theirs(admin, admin2, tenant):
    change = request_raise(admin, tenant)
    mark = last_audit_id()
    assert body_of(reject(admin, change["id"], "Withdrawn: wrong currency"))["state"] == "rejected"
    assert eur_limit(tenant) == 1000_00
    assert [e.action for e in audit_since(mark)] == ["policy.change_rejected"]
    assert_problem(approve(admin2, change["id"]), 409, "ILLEGAL_POLICY_CHANGE_STATE_TRANSITION")
    assert reject(admin2, change["id"]).status_code == 200  # the same state again: a no-op
    # and a new change can be requested
    assert put(admin, policy_body(EUR={"daily_withdraw_limit": "1500.00"}, reason="again")).status_code == 202


def test_a_pending_change_expires_after_72_hours(admin, admin2, tenant):
    change = request_raise(admin, tenant)
    PolicyChange.objects.filter(pk=change["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    mark = last_audit_id()
    assert expire_due_policy_changes() == 1
    (event,) = audit_since(mark)
    assert (event.action, event.actor_type, event.after_state) == ("policy.change_expired", "system", "expired")
    body = assert_problem(approve(admin2, change["id"]), 409, "ILLEGAL_POLICY_CHANGE_STATE_TRANSITION")
    assert body["from_state"] == "expired"
    assert eur_limit(tenant) == 1000_00


def test_an_overdue_change_does_not_block_a_new_request_even_before_the_sweeper_ran(admin, admin2, tenant):
    first = request_raise(admin, tenant)
    PolicyChange.objects.filter(pk=first["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    second = put(admin2, policy_body(EUR={"daily_withdraw_limit": "1200.00"}, reason="smaller raise"))
    assert second.status_code == 202, second.content
    assert PolicyChange.objects.get(pk=first["id"]).state == "expired"


def test_the_changes_are_listed_newest_first_with_a_state_filter(admin, admin2, viewer, tenant):
    first = request_raise(admin, tenant)
    reject(admin2, first["id"])
    second = request_raise(admin, tenant, to="1500.00")
    listed = body_of(as_operator(viewer).get(CHANGES))["results"]
    assert [c["id"] for c in listed] == [second["id"], first["id"]]
    pending = body_of(as_operator(viewer).get(CHANGES, {"state": "pending_approval"}))["results"]
    assert [c["id"] for c in pending] == [second["id"]]
    assert_problem(as_operator(viewer).get(CHANGES, {"state": "nonsense"}), 400, "VALIDATION_ERROR")


@pytest.mark.django_db(transaction=True)
def test_two_admins_asking_at_once_leave_exactly_one_pending_change(admin, admin2, tenant):
    set_limits(tenant, "EUR", daily_withdraw_limit=1000_00)
    barrier, answers = threading.Barrier(2), []

    def ask(user, amount):
        try:
            barrier.wait()
            answers.append(put(user, policy_body(EUR={"daily_withdraw_limit": amount}, reason="race")).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=args) for args in ((admin, "1500.00"), (admin2, "2500.00"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [202, 409]
    assert PolicyChange.objects.filter(tenant=tenant, state="pending_approval").count() == 1
