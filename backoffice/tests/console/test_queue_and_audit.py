"""Queue filters, counts and SLA age; the audit browser's filters and pages; the transaction snapshot."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from core.models import AuditEvent
from players.tests.factories import PlayerFactory
from wallet.errors import TenantPaymentLimitExceeded
from wallet.models import Withdrawal
from wallet.tests.builders import REASON, set_limits, withdraw, withdrawal_in_state
from wallet.tests.factories import fund

from .helpers import AUDIT, QUEUE, decide, detail_url, sign_in, snapshot_url, text_of

pytestmark = pytest.mark.django_db


def _shown(client, **query) -> list:
    response = client.get(QUEUE, query)
    assert response.status_code == 200
    return [w.pk for w in response.context["page"]]


def test_the_queue_filters_by_player_state_currency_amount_and_day(finance, tenant):
    alice = PlayerFactory(tenant=tenant, user__username="alice-player", display_name="Alice A")
    bob = PlayerFactory(tenant=tenant, user__username="bob-player", display_name="Bob B")
    small = withdrawal_in_state("requested", player=alice, amount=10_00)
    big = withdrawal_in_state("requested", player=alice, amount=300_00, currency="USD")
    approved = withdrawal_in_state("approved", player=alice, amount=20_00)
    bobs = withdrawal_in_state("requested", player=bob, amount=50_00)
    client = sign_in(finance)
    assert _shown(client) == [small.pk, big.pk, bobs.pk]  # default: requested, oldest first
    assert _shown(client, player="alice") == [small.pk, big.pk, approved.pk]
    assert _shown(client, player="Bob B", state="requested") == [bobs.pk]
    assert _shown(client, player=str(bob.pk)) == [bobs.pk]
    assert _shown(client, player="alice", state=["approved", "requested"], ordering="-amount") == [
        big.pk,
        approved.pk,
        small.pk,
    ]
    assert _shown(client, currency="EUR", min_amount="15", max_amount="50.00") == [approved.pk, bobs.pk]
    today = timezone.localdate(timezone=tenant.zone).isoformat()
    assert len(_shown(client, created_after=today, created_before=today)) == 4
    assert _shown(client, created_before="2000-01-01") == []


def test_counts_follow_the_filters_except_the_state(finance, tenant):
    alice = PlayerFactory(tenant=tenant, user__username="alice-2")
    withdrawal_in_state("requested", player=alice)
    withdrawal_in_state("paid", player=alice)
    withdrawal_in_state("requested", player=PlayerFactory(tenant=tenant))  # someone else's
    counts = {v: n for v, _label, n in sign_in(finance).get(QUEUE, {"player": "alice-2"}).context["counts"]}
    assert (counts["requested"], counts["paid"], counts["approved"]) == (1, 1, 0)


def test_an_amount_filter_needs_a_currency_and_a_valid_amount(finance, player):
    withdrawal_in_state("requested", player=player)
    client = sign_in(finance)
    response = client.get(QUEUE, {"min_amount": "10"})
    assert "Choose a currency to filter by amount." in text_of(response)
    assert list(response.context["page"]) == []
    assert list(client.get(QUEUE, {"currency": "EUR", "min_amount": "1.234"}).context["page"]) == []


def test_the_queue_shows_waiting_time_and_marks_late_withdrawals(finance, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    client = sign_in(finance)
    assert 'class="late"' not in client.get(QUEUE).content.decode()
    Withdrawal.objects.filter(pk=withdrawal.pk).update(created_at=timezone.now() - timedelta(days=1, hours=2))
    page = client.get(QUEUE).content.decode()
    assert '<td class="late">1 d 2 h</td>' in page


def test_the_queue_shows_and_filters_withdrawals_awaiting_a_second_approval(finance, tenant):
    set_limits(tenant, four_eyes_amount=100_00)
    player = PlayerFactory(tenant=tenant)
    big = withdrawal_in_state("requested", player=player, amount=100_00)
    small = withdrawal_in_state("requested", player=player, amount=99_99)
    client = sign_in(finance)
    decide(client, big, "approve")
    decide(client, small, "approve")
    assert _shown(client, awaiting_second_approval="on") == [big.pk]
    page = client.get(QUEUE)
    assert page.content.decode().count('data-testid="awaiting-second"') == 1
    assert "1/2" in text_of(page)


def test_a_limit_refusal_is_found_in_the_audit_browser(finance, tenant):
    set_limits(tenant, daily_withdraw_limit=30_00)
    player = PlayerFactory(tenant=tenant)
    fund(player, 100_00)
    withdraw(player, 20_00)
    with pytest.raises(TenantPaymentLimitExceeded):
        withdraw(player, 20_00)
    response = sign_in(finance).get(AUDIT, {"action": "limit.refused"})
    (event,) = response.context["events"]
    assert (event.actor_label, event.target_id) == (player.user.username, str(player.pk))
    assert "limit.refused" in text_of(response) and "30.00" in text_of(response)


def test_the_audit_browser_filters_and_pages(finance, tenant, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    client = sign_in(finance)
    decide(client, withdrawal, "reject")
    events = client.get(AUDIT, {"action": "withdrawal.", "actor_type": "operator"}).context["events"]
    assert [e.action for e in events] == ["withdrawal.rejected"]
    assert [e.action for e in client.get(AUDIT, {"actor": finance.username}).context["events"]] == [
        "withdrawal.rejected",
        "operator.login",
    ]
    by_id = client.get(AUDIT, {"target_id": str(withdrawal.pk)}).context["events"]
    assert {e.action for e in by_id} == {"withdrawal.requested", "withdrawal.rejected"}
    # more than a page: "older events" continues where the page ended
    AuditEvent.objects.bulk_create(
        AuditEvent(tenant_id=tenant.pk, actor_type="system", actor_label="bulk", action=f"test.e{i}") for i in range(60)
    )
    first = client.get(AUDIT, {"actor": "bulk"})
    assert len(first.context["events"]) == 50 and first.context["older"]
    second = client.get(f"{AUDIT}?{first.context['older']}")
    assert len(second.context["events"]) == 10
    assert max(e.id for e in second.context["events"]) < min(e.id for e in first.context["events"])


def test_the_snapshot_shows_history_ledger_approvals_and_audit(finance, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    decide(sign_in(finance), withdrawal, "approve")
    response = sign_in(finance).get(snapshot_url(withdrawal.pk))
    text = text_of(response)
    for testid in ("timeline", "approvals", "ledger", "webhooks", "audit-events"):
        assert f'data-testid="{testid}"' in response.content.decode()
    assert "Withdrawal requested" in text and "withdrawal.approved" in text and REASON in text
    assert "available 0.00 EUR · held 25.00 EUR" in text


def test_times_are_shown_in_the_casinos_time_zone(finance, superuser, player, tenant):
    # given a withdrawal requested at 23:30 UTC, which is 00:30 the next day in Malta (the casino's zone)
    withdrawal = withdrawal_in_state("requested", player=player)
    late_evening = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)
    Withdrawal.objects.filter(pk=withdrawal.pk).update(created_at=late_evening)
    assert tenant.time_zone == "Europe/Malta"
    # then the casino's operator sees the local time, and finds it under the local day
    client = sign_in(finance)
    assert "Requested 16 Jan 2026, 00:30:00 CET" in text_of(client.get(detail_url(withdrawal.pk)))
    assert _shown(client, created_after="2026-01-16", created_before="2026-01-16") == [withdrawal.pk]
    # and platform staff, who see every casino, read UTC
    assert "Requested 15 Jan 2026, 23:30:00 UTC" in text_of(sign_in(superuser).get(detail_url(withdrawal.pk)))
