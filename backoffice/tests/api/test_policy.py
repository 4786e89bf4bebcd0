"""GET and PUT admin/payment-policy/: shape, replacement, audit, and what the next payment sees."""

import pytest

from core.models import AuditEvent
from tenants.models import CurrencyLimit
from tenants.services import policy_as_dict
from wallet.tests.api.helpers import WITHDRAWALS, assert_problem, client_for, post_money
from wallet.tests.builders import set_limits, withdrawal_in_state
from wallet.tests.factories import fund

from .helpers import (
    DEFAULT_CONTROLS,
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


def _put(user, body):
    return as_operator(user).put(POLICY, body, format="json")


def test_get_shows_decimal_strings_and_null_for_no_limit(viewer, tenant):
    set_limits(tenant, "EUR", daily_deposit_limit=1000_00, daily_withdraw_limit=0, min_amount=10_00, max_amount=2000_50)
    set_limits(tenant, "JPY", four_eyes_amount=100_000)
    response = as_operator(viewer).get(POLICY)
    assert response.status_code == 200, response.content
    assert body_of(response) == {
        "tenant": tenant.slug,
        "payout_retry_limit": 3,
        "payout_cooldown_seconds": 0,
        **DEFAULT_CONTROLS,
        "currency_limits": [
            {
                "currency": "EUR",
                "daily_deposit_limit": "1000.00",
                "daily_withdraw_limit": "0.00",
                "min_amount": "10.00",
                "max_amount": "2000.50",
                "four_eyes_amount": None,
                "kyc_deposit_threshold": None,
                "auto_approve_below": None,
            },
            {"currency": "JPY", **NO_LIMITS, "four_eyes_amount": "100000"},
        ],
    }


def test_an_admin_tightens_the_policy_at_once_and_one_audit_row_keeps_before_and_after(admin, tenant):
    # given limits for EUR
    set_limits(tenant, "EUR", daily_withdraw_limit=500_00)
    before = policy_as_dict(tenant.policy)
    mark = last_audit_id()
    # when the admin puts a stricter policy: fewer attempts, a cooldown, a lower EUR limit, new USD limits
    usd = {"daily_withdraw_limit": "250.00", "min_amount": "5", "four_eyes_amount": "1000.00"}
    body = policy_body(2, 120, "Q3 risk review", EUR={"daily_withdraw_limit": "400.00"}, USD=usd)
    response = _put(admin, body)
    # then, as it only tightens, the answer is the new policy at once
    assert response.status_code == 200, response.content
    expected = {
        "tenant": tenant.slug,
        **{name: value for name, value in body.items() if name != "reason"},
        **DEFAULT_CONTROLS,
        "currency_limits": [
            {"currency": "EUR", **NO_LIMITS, "daily_withdraw_limit": "400.00"},
            {
                "currency": "USD",
                **NO_LIMITS,
                "daily_withdraw_limit": "250.00",
                "min_amount": "5.00",
                "four_eyes_amount": "1000.00",
            },
        ],
    }
    assert body_of(response) == expected
    assert body_of(as_operator(admin).get(POLICY)) == expected
    assert list(CurrencyLimit.objects.filter(policy__tenant=tenant).values_list("currency", flat=True)) == [
        "EUR",
        "USD",
    ]
    # and exactly one policy.updated audit row names the admin, the reason, before and after (minor units)
    (event,) = audit_since(mark)
    assert (event.action, event.actor_user_id, event.reason, event.target_type) == (
        "policy.updated",
        admin.pk,
        "Q3 risk review",
        "paymentpolicy",
    )
    assert event.data["before"] == before
    assert event.data["after"] == {
        "payout_retry_limit": 2,
        "payout_cooldown_seconds": 120,
        **DEFAULT_CONTROLS,
        "currency_limits": [
            {"currency": "EUR", **NO_LIMITS, "daily_withdraw_limit": 400_00},
            {
                "currency": "USD",
                **NO_LIMITS,
                "daily_withdraw_limit": 250_00,
                "min_amount": 5_00,
                "four_eyes_amount": 1000_00,
            },
        ],
    }


def test_putting_the_same_values_writes_no_audit_row(admin, tenant):
    set_limits(tenant, "EUR", daily_deposit_limit=100_00)
    current = body_of(as_operator(admin).get(POLICY))
    del current["tenant"]
    mark = last_audit_id()
    response = _put(admin, {**current, "reason": "just checking"})
    assert response.status_code == 200 and body_of(response) == {"tenant": tenant.slug, **current}
    assert audit_since(mark) == []


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_change_without_a_reason_is_refused_and_changes_nothing(admin, tenant, reason):
    set_limits(tenant, "EUR", daily_withdraw_limit=500_00)
    before = policy_as_dict(tenant.policy)
    body = policy_body(7, 60, EUR={"daily_withdraw_limit": "5000.00"})
    if reason is None:
        del body["reason"]
    else:
        body["reason"] = reason
    mark = last_audit_id()
    assert_problem(_put(admin, body), 400, "REVIEW_REASON_REQUIRED")
    tenant.policy.refresh_from_db()
    assert policy_as_dict(tenant.policy) == before
    assert audit_since(mark) == []


def test_the_same_values_need_no_reason(admin, tenant):
    current = body_of(as_operator(admin).get(POLICY))
    del current["tenant"]
    mark = last_audit_id()
    assert _put(admin, current).status_code == 200
    assert audit_since(mark) == []


def test_a_new_daily_limit_applies_to_the_next_withdrawal(admin, admin2, player):
    # given a player with 100.00 who already asked for 25.00 today
    fund(player, 100_00)
    client = client_for(player)
    assert post_money(client, WITHDRAWALS, {"amount": "25.00", "currency": "EUR"}).status_code == 201
    # when the admin sets a daily withdrawal limit of 30.00 EUR
    assert _put(admin, policy_body(EUR={"daily_withdraw_limit": "30.00"})).status_code == 200
    # then the next 10.00 is refused with the limit's numbers, and the refusal is audited
    response = post_money(client, WITHDRAWALS, {"amount": "10.00", "currency": "EUR"})
    body = assert_problem(response, 422, "TENANT_PAYMENT_LIMIT_EXCEEDED")
    assert {k: body[k] for k in ("action", "limit", "used", "requested", "currency")} == {
        "action": "withdraw",
        "limit": "30.00",
        "used": "25.00",
        "requested": "10.00",
        "currency": "EUR",
    }
    assert AuditEvent.objects.filter(action="limit.refused", target_id=str(player.pk)).count() == 1
    # and once the admin raises it and a second admin approves the raise, the same amount passes
    raised = _put(admin, policy_body(EUR={"daily_withdraw_limit": "50.00"}))
    assert raised.status_code == 202, raised.content
    assert post_money(client, WITHDRAWALS, {"amount": "10.00", "currency": "EUR"}).status_code == 422
    approved = as_operator(admin2).post(change_url(body_of(raised)["id"], "approve"), {"reason": "ok"}, format="json")
    assert approved.status_code == 200, approved.content
    assert post_money(client, WITHDRAWALS, {"amount": "10.00", "currency": "EUR"}).status_code == 201


def test_a_daily_limit_of_zero_stops_that_payment_type(admin, player):
    fund(player, 100_00)
    assert _put(admin, policy_body(EUR={"daily_withdraw_limit": "0"})).status_code == 200
    response = post_money(client_for(player), WITHDRAWALS, {"amount": "1.00", "currency": "EUR"})
    assert assert_problem(response, 422, "TENANT_PAYMENT_LIMIT_EXCEEDED")["limit"] == "0.00"


def test_a_new_four_eyes_amount_applies_to_the_next_approval(admin, finance, player):
    withdrawal = withdrawal_in_state("requested", player=player, amount=25_00)
    assert _put(admin, policy_body(EUR={"four_eyes_amount": "25.00"})).status_code == 200
    body = body_of(decide(as_operator(finance), withdrawal.pk, "approve"))
    assert (body["state"], body["approvals"], body["approvals_required"]) == ("requested", 1, 2)
