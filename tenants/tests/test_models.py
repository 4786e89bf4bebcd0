"""Tenant configuration: time zones, currencies, and per-currency limits the database keeps sane."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tenants.models import CurrencyLimit
from tenants.selectors import payment_policy
from tenants.tests.factories import CurrencyLimitFactory, TenantFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("zone", ["Europe/Malta", "Pacific/Auckland", "America/Los_Angeles", "UTC"])
def test_an_iana_time_zone_is_accepted(zone):
    tenant = TenantFactory(time_zone=zone)
    tenant.full_clean()
    assert tenant.zone.key == zone


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "CET+1", "", "europe/malta "])
def test_anything_else_is_not_a_time_zone(zone):
    tenant = TenantFactory.build(time_zone=zone)
    with pytest.raises(ValidationError) as invalid:
        tenant.full_clean()
    assert "time_zone" in invalid.value.message_dict


def test_known_currencies_are_accepted():
    tenant = TenantFactory(allowed_currencies=["EUR", "JPY", "KWD"])
    tenant.full_clean()


@pytest.mark.parametrize("currencies", [["EUR", "XXX"], ["eur"], ["BTC"]])
def test_unknown_currencies_are_refused(currencies):
    tenant = TenantFactory.build(allowed_currencies=currencies)
    with pytest.raises(ValidationError) as invalid:
        tenant.full_clean()
    assert "allowed_currencies" in invalid.value.message_dict


def test_a_new_tenant_is_active_with_a_policy():
    tenant = TenantFactory()
    assert tenant.is_active
    assert payment_policy(tenant).pk == tenant.policy.pk


def test_a_tenant_without_a_saved_policy_gets_the_defaults():
    tenant = TenantFactory(policy=None)
    policy = payment_policy(tenant)
    assert (policy.pk, policy.payout_retry_limit, policy.payout_cooldown_seconds) == (None, 3, 60)


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"daily_deposit_limit": -1}, "currency_limit_deposit_nonnegative"),
        ({"daily_withdraw_limit": -1}, "currency_limit_withdraw_nonnegative"),
        ({"min_amount": 0}, "currency_limit_min_positive"),
        ({"min_amount": 10_00, "max_amount": 9_99}, "currency_limit_max_not_below_min"),
    ],
)
def test_the_database_refuses_nonsense_limits(fields, constraint):
    tenant = TenantFactory()
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        CurrencyLimit.objects.create(policy=tenant.policy, currency="EUR", **fields)
    assert not CurrencyLimit.objects.exists()


def test_sensible_limits_are_kept_and_found_per_currency():
    tenant = TenantFactory()
    eur = CurrencyLimitFactory(policy=tenant.policy, currency="EUR", daily_deposit_limit=0, min_amount=1, max_amount=1)
    assert tenant.policy.limits_for("EUR") == eur
    assert tenant.policy.limits_for("USD") is None


def test_one_limit_row_per_currency():
    tenant = TenantFactory()
    CurrencyLimit.objects.create(policy=tenant.policy, currency="EUR")
    with pytest.raises(IntegrityError, match="currency_limit_once_per_policy"), transaction.atomic():
        CurrencyLimit.objects.create(policy=tenant.policy, currency="EUR")
