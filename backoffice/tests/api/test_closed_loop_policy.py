"""The tenant's `closed_loop` control: turning it on tightens (applies at once); turning it off loosens
(maker-checker: a second admin must approve)."""

import pytest

from tenants.models import PaymentPolicy, PolicyChange

from .helpers import POLICY, as_operator, body_of, change_url, policy_body

pytestmark = pytest.mark.django_db


def _closed_loop(tenant) -> bool:
    return PaymentPolicy.objects.get(tenant=tenant).closed_loop


def test_closed_loop_is_on_by_default_and_in_the_policy(admin, tenant):
    body = body_of(as_operator(admin).get(POLICY))
    assert body["closed_loop"] is True and _closed_loop(tenant) is True


def test_turning_closed_loop_off_waits_for_a_second_admin(admin, admin2, tenant):
    cooldown = PaymentPolicy.objects.get(tenant=tenant).payout_cooldown_seconds
    # when an admin turns the closed loop off
    response = as_operator(admin).put(
        POLICY, {**policy_body(cooldown=cooldown, reason="Bank transfers only"), "closed_loop": False}, format="json"
    )
    # then the change waits for approval and the policy keeps the closed loop
    assert response.status_code == 202, response.content
    change = body_of(response)
    assert change["changes"] == [{"field": "closed_loop", "currency": None, "before": True, "after": False}]
    assert _closed_loop(tenant) is True
    # when a second admin approves it, then it applies
    approved = as_operator(admin2).post(change_url(change["id"], "approve"), {"reason": "Agreed"}, format="json")
    assert approved.status_code == 200, approved.content
    assert _closed_loop(tenant) is False
    assert PolicyChange.objects.get(pk=change["id"]).state == "approved"


def test_turning_closed_loop_on_applies_at_once(admin, tenant):
    PaymentPolicy.objects.filter(tenant=tenant).update(closed_loop=False)
    cooldown = PaymentPolicy.objects.get(tenant=tenant).payout_cooldown_seconds
    response = as_operator(admin).put(
        POLICY, {**policy_body(cooldown=cooldown, reason="AML review"), "closed_loop": True}, format="json"
    )
    assert response.status_code == 200, response.content
    assert body_of(response)["closed_loop"] is True and _closed_loop(tenant) is True
