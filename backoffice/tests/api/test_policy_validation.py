"""Invalid payment policies are 400 VALIDATION_ERROR and change nothing."""

import pytest

from tenants.services import policy_as_dict
from wallet.tests.api.helpers import assert_validation_error
from wallet.tests.builders import set_limits
from wallet.tests.invariants import expect_no_change

from .helpers import POLICY, as_operator, audit_since, last_audit_id, policy_body

pytestmark = pytest.mark.django_db

INVALID = {
    "currency not allowed": (policy_body(GBP={"daily_withdraw_limit": "10.00"}), "currency_limits"),
    "unknown currency": (policy_body(XXX={}), "currency_limits"),
    "unknown currency with an amount": (policy_body(XXX={"min_amount": "1"}), "currency_limits"),
    "max below min": (policy_body(EUR={"min_amount": "100.00", "max_amount": "50.00"}), "currency_limits"),
    "negative": (policy_body(EUR={"daily_withdraw_limit": "-1.00"}), "currency_limits"),
    "zero minimum": (policy_body(EUR={"min_amount": "0"}), "currency_limits"),
    "zero four-eyes amount": (policy_body(EUR={"four_eyes_amount": "0.00"}), "currency_limits"),
    "too many decimals": (policy_body(EUR={"max_amount": "1.001"}), "currency_limits"),
    "decimals for JPY": (policy_body(JPY={"max_amount": "1.5"}), "currency_limits"),
    "not a number": (policy_body(EUR={"max_amount": "abc"}), "currency_limits"),
    "exponent": (policy_body(EUR={"max_amount": "1e3"}), "currency_limits"),
    "JSON number": (policy_body(EUR={"max_amount": 10}), "currency_limits"),
    "currency twice": (
        {**policy_body(), "currency_limits": [{"currency": "EUR"}, {"currency": "EUR"}]},
        "currency_limits",
    ),
    "retry limit 0": (policy_body(retry=0), "payout_retry_limit"),
    "retry limit 21": (policy_body(retry=21), "payout_retry_limit"),
    "retry limit text": ({**policy_body(), "payout_retry_limit": "many"}, "payout_retry_limit"),
    "negative cooldown": (policy_body(cooldown=-1), "payout_cooldown_seconds"),
    "cooldown over a week": (policy_body(cooldown=7 * 86400 + 1), "payout_cooldown_seconds"),
    "no retry limit": ({"payout_cooldown_seconds": 0, "currency_limits": []}, "payout_retry_limit"),
    "no currency limits": ({"payout_retry_limit": 3, "payout_cooldown_seconds": 0}, "currency_limits"),
    "currency limits not a list": ({**policy_body(), "currency_limits": "EUR"}, "currency_limits"),
}


@pytest.mark.parametrize("case", INVALID)
def test_an_invalid_policy_is_refused_and_changes_nothing(admin, tenant, case):
    # given a policy with EUR limits
    set_limits(tenant, "EUR", daily_withdraw_limit=500_00, four_eyes_amount=1000_00)
    before, mark = policy_as_dict(tenant.policy), last_audit_id()
    body, field = INVALID[case]
    # when the admin puts an invalid one, then 400 VALIDATION_ERROR naming the field
    with expect_no_change():
        assert_validation_error(as_operator(admin).put(POLICY, body, format="json"), field)
    # and the policy and the audit trail are as they were
    assert policy_as_dict(tenant.policy) == before
    assert audit_since(mark) == []


def test_a_body_that_is_not_an_object_is_refused(admin, tenant):
    before = policy_as_dict(tenant.policy)
    response = as_operator(admin).put(POLICY, "[1, 2]", content_type="application/json")
    assert response.status_code == 400 and response.json()["error_code"] == "VALIDATION_ERROR"
    response = as_operator(admin).put(POLICY, "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["error_code"] == "VALIDATION_ERROR"
    assert policy_as_dict(tenant.policy) == before
