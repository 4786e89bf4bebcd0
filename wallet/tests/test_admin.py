"""The platform admin shows money as money and edits none of it; policy changes only through the service."""

import re

import pytest
from django.test import Client

from players.tests.factories import PlayerFactory
from tenants.models import PaymentPolicy, PolicyChange
from tenants.tests.factories import TenantFactory, UserFactory
from wallet.models import Posting, Wallet

from .builders import set_limits, withdrawal_in_state
from .factories import fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def books():
    """A player with 1,234.56 EUR deposited and 1,000.00 EUR of it held for a withdrawal."""
    player = PlayerFactory(tenant=TenantFactory(allowed_currencies=["EUR"]))
    fund(player, 1234_56)
    withdrawal = withdrawal_in_state("requested", player=player, amount=1000_00)
    return player, withdrawal


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_lists_and_detail_pages_show_decimals_with_the_currency(platform, books):
    _player, withdrawal = books
    wallet = Wallet.objects.get(pk=withdrawal.wallet_id)
    pages = {
        "/admin/wallet/wallet/": ["234.56 EUR", "1,000.00 EUR"],
        f"/admin/wallet/wallet/{wallet.pk}/change/": ["234.56 EUR", "1,000.00 EUR"],
        "/admin/wallet/withdrawal/": ["1,000.00 EUR"],
        f"/admin/wallet/withdrawal/{withdrawal.pk}/change/": ["1,000.00 EUR"],
        "/admin/wallet/deposit/": ["1,234.56 EUR"],
        "/admin/wallet/posting/": ["1,234.56 EUR", "-1,000.00 EUR"],
    }
    entry = Posting.objects.filter(wallet=wallet).order_by("id").first().entry
    pages[f"/admin/wallet/journalentry/{entry.pk}/change/"] = ["1,234.56 EUR", "-1,234.56 EUR"]
    for url, expected in pages.items():
        response = platform.get(url)
        assert response.status_code == 200, url
        for money in expected:
            assert money in text(response), (url, money)
        # and never the bare minor units
        assert not re.search(r"\b(123456|100000|23456)\b", text(response)), url


def test_money_rows_cannot_be_added_changed_or_deleted(platform, books):
    _player, withdrawal = books
    wallet = Wallet.objects.get(pk=withdrawal.wallet_id)
    page = platform.get(f"/admin/wallet/wallet/{wallet.pk}/change/")
    assert b'name="_save"' not in page.content and b'name="balance_available"' not in page.content
    before = (wallet.balance_available, wallet.balance_held)
    assert platform.post(f"/admin/wallet/wallet/{wallet.pk}/change/", {"balance_available": "0"}).status_code == 403
    wallet.refresh_from_db()
    assert (wallet.balance_available, wallet.balance_held) == before
    for model in ("wallet", "withdrawal", "deposit", "journalentry", "posting", "payoutattempt"):
        assert platform.get(f"/admin/wallet/{model}/add/").status_code == 403, model


def test_the_payment_policy_is_read_only_in_the_admin(platform):
    tenant = TenantFactory(allowed_currencies=["EUR"])
    set_limits(tenant, "EUR", four_eyes_amount=1000_00, daily_withdraw_limit=250_00)
    policy = PaymentPolicy.objects.get(tenant=tenant)
    # the policy page and the tenant page show the limits as money, in fields no one can edit
    for url in (f"/admin/tenants/paymentpolicy/{policy.pk}/change/", f"/admin/tenants/tenant/{tenant.pk}/change/"):
        page = platform.get(url)
        assert page.status_code == 200, url
        assert 'name="payout_retry_limit"' not in page.content.decode(), url
    page = platform.get(f"/admin/tenants/paymentpolicy/{policy.pk}/change/")
    assert "1,000.00 EUR" in text(page) and "250.00 EUR" in text(page)
    assert not re.search(r"\b100000\b", text(page))
    assert b'name="_save"' not in page.content
    # and a forged POST changes nothing: the policy moves only through tenants.services
    forged = {"payout_retry_limit": "20", "payout_cooldown_seconds": "0"}
    assert platform.post(f"/admin/tenants/paymentpolicy/{policy.pk}/change/", forged).status_code == 403
    policy.refresh_from_db()
    assert policy.payout_retry_limit == 3
    tenant_form = {
        "slug": tenant.slug,
        "name": tenant.name,
        "status": "active",
        "allowed_currencies": "EUR",
        "time_zone": "UTC",
        "policy-TOTAL_FORMS": "1",
        "policy-INITIAL_FORMS": "1",
        "policy-0-payout_retry_limit": "20",
        "policy-0-id": str(policy.pk),
        "policy-0-tenant": str(tenant.pk),
    }
    platform.post(f"/admin/tenants/tenant/{tenant.pk}/change/", tenant_form)
    policy.refresh_from_db()
    assert policy.payout_retry_limit == 3
    assert platform.get("/admin/tenants/paymentpolicy/add/").status_code == 403


def test_pending_policy_changes_are_shown_as_money_and_read_only(platform):
    tenant = TenantFactory(allowed_currencies=["EUR"])
    admin_user = UserFactory()
    change = PolicyChange.objects.create(
        tenant=tenant,
        changes=[{"field": "four_eyes_amount", "currency": "EUR", "before": 100000, "after": None}],
        reason="test",
        requested_by=admin_user,
        requested_by_label=admin_user.username,
        expires_at="2030-01-01T00:00:00Z",
    )
    page = platform.get(f"/admin/tenants/policychange/{change.pk}/change/")
    assert "four_eyes_amount EUR: 1,000.00 EUR → no limit" in text(page)
    assert b'name="_save"' not in page.content


def test_a_casino_is_suspended_through_an_audited_action_not_by_editing_its_status(platform):
    from core.models import AuditEvent

    tenant = TenantFactory(allowed_currencies=["EUR"])
    page = platform.get(f"/admin/tenants/tenant/{tenant.pk}/change/")
    assert b'name="status"' not in page.content
    response = platform.post("/admin/tenants/tenant/", {"action": "suspend", "_selected_action": [tenant.pk]})
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.status == "suspended"
    event = AuditEvent.objects.get(action="tenant.suspended", target_id=str(tenant.pk))
    assert (event.before_state, event.after_state, event.actor_type) == ("active", "suspended", "operator")
