"""Every console page for every role: viewers read, finance decides, admins edit the policy."""

import re

import pytest

from players.tests.factories import PlayerFactory
from wallet.tests.builders import AMOUNT, deposit_in_state, withdrawal_in_state

from .helpers import (
    ADMIN,
    API_TOKENS,
    AUDIT,
    FINANCE,
    POLICY,
    QUEUE,
    ROLES,
    VIEWER,
    confirm,
    decide,
    decide_url,
    detail_url,
    messages_after,
    sign_in,
    snapshot_url,
    state_of,
    text_of,
)

pytestmark = pytest.mark.django_db

OFFERED = {"requested": ["approve", "reject"], "approved": ["mark-paid"], "payout_failed": ["reject", "retry-payout"]}


def _pages(withdrawal, deposit) -> list[str]:
    return [
        QUEUE,
        f"{QUEUE}?state=approved&state=requested&player=a&currency=EUR&min_amount=1&max_amount=100"
        "&created_after=2020-01-01&created_before=2099-12-31&awaiting_second_approval=on&ordering=-amount"
        "&flag=first_withdrawal&flag=large",
        detail_url(withdrawal.pk),
        snapshot_url(withdrawal.pk),
        snapshot_url(deposit.pk),
        POLICY,
        AUDIT,
        f"{AUDIT}?action=withdrawal.&actor_type=player&actor=p&day_from=2020-01-01&day_until=2099-12-31",
        API_TOKENS,
        "/console/players/?q=a",
        f"/console/players/{withdrawal.player_id}/",
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_opens_for_every_role(role, staff, player):
    # given a casino with a withdrawal and a deposit
    withdrawal = withdrawal_in_state("requested", player=player)
    deposit = deposit_in_state("completed", player=player)
    client = sign_in(staff[role])
    # when the operator opens each console page, then each answers 200 and names who is signed in
    for url in _pages(withdrawal, deposit):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert f"{staff[role].username} · {role.capitalize()}" in text_of(response), url  # the role, as a label


def test_the_queue_shows_the_casinos_requested_withdrawals_with_counts(finance, player):
    waiting = withdrawal_in_state("requested", player=player)
    withdrawal_in_state("approved", player=player)
    response = sign_in(finance).get(QUEUE)
    assert [w.pk for w in response.context["page"]] == [waiting.pk]
    counts = {value: count for value, _label, count in response.context["counts"]}
    assert counts["requested"] == 1 and counts["approved"] == 1 and counts["paid"] == 0


def test_a_viewer_reads_a_withdrawal_but_gets_no_action_forms(viewer, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    response = sign_in(viewer).get(detail_url(withdrawal.pk))
    assert response.context["actions"] == []
    assert b'data-testid="form-' not in response.content
    assert "Your role can read but not decide." in text_of(response)


@pytest.mark.parametrize("role", [VIEWER])
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_viewer_cannot_confirm_or_decide(role, decision, staff, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    client = sign_in(staff[role])
    assert confirm(client, withdrawal, decision).status_code == 403
    assert client.post(decide_url(withdrawal.pk, decision), {"token": "x", "reason": "r"}).status_code == 403
    assert state_of(withdrawal) == "requested"


@pytest.mark.parametrize("role", [FINANCE, ADMIN])
@pytest.mark.parametrize("state", ["requested", "approved", "payout_failed", "payout_pending", "paid", "rejected"])
def test_deciding_roles_get_the_forms_the_state_allows(role, state, staff, player):
    withdrawal = withdrawal_in_state(state, player=player)
    response = sign_in(staff[role]).get(detail_url(withdrawal.pk))
    offered = [decision.name for decision in response.context["actions"]]
    assert offered == OFFERED.get(state, [])
    for name in offered:
        assert f'data-testid="form-{name}"'.encode() in response.content
    if not offered:
        assert "No decision is possible in this state." in text_of(response)


@pytest.mark.parametrize("role", [FINANCE, ADMIN])
def test_finance_and_admin_approve(role, staff, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    client = sign_in(staff[role])
    response = decide(client, withdrawal, "approve")
    assert state_of(withdrawal) == "approved"
    assert messages_after(client, response) == [f"Approve: done for {withdrawal.reference}."]


@pytest.mark.parametrize("role", [VIEWER, FINANCE])
def test_the_policy_is_read_only_below_admin(role, staff, tenant):
    client = sign_in(staff[role])
    response = client.get(POLICY)
    assert response.context["may_edit"] is False
    assert re.search(r"<fieldset[^>]* disabled>", response.content.decode())
    assert b"Save policy" not in response.content
    assert "Only admins may change the payment policy." in text_of(response)


def test_an_admin_gets_the_editable_policy(admin):
    response = sign_in(admin).get(POLICY)
    assert response.context["may_edit"] is True
    assert b'<fieldset class="panel" >' in response.content
    assert b"Save policy" in response.content


def test_the_superuser_sees_every_casino(superuser, tenant, other_tenant, player):
    # given withdrawals in two casinos
    ours = withdrawal_in_state("requested", player=player)
    theirs = withdrawal_in_state("requested", player=PlayerFactory(tenant=other_tenant))
    client = sign_in(superuser)
    # then the queue lists both, and the header says "all casinos"
    response = client.get(QUEUE)
    assert {w.pk for w in response.context["page"]} == {ours.pk, theirs.pk}
    assert "platform-root · Platform · all casinos" in text_of(response)
    # and both withdrawal pages open, with the forms to decide
    for withdrawal in (ours, theirs):
        page = client.get(detail_url(withdrawal.pk))
        assert page.status_code == 200 and b'data-testid="form-approve"' in page.content
    # and the audit trail holds both casinos' events
    tenants = {event.tenant_id for event in client.get(AUDIT).context["events"]}
    assert {tenant.pk, other_tenant.pk} <= tenants
    # and the policy page first asks which casino, then shows that casino's policy
    pick = client.get(POLICY)
    assert [t.slug for t in pick.context["tenants"]] == sorted([tenant.slug, other_tenant.slug])
    chosen = client.get(f"{POLICY}?tenant={other_tenant.slug}")
    assert chosen.context["tenant"] == other_tenant and chosen.context["may_edit"] is True


def test_the_superuser_decides_for_any_casino(superuser, other_tenant):
    theirs = withdrawal_in_state("requested", player=PlayerFactory(tenant=other_tenant), amount=AMOUNT)
    decide(sign_in(superuser), theirs, "approve")
    assert state_of(theirs) == "approved"
