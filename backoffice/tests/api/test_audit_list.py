"""admin/audit-events/: filters, newest first, and a `before` cursor that returns each event once."""

import pytest
from django.utils import timezone

from core.models import AuditEvent
from players.tests.factories import PlayerFactory
from wallet.tests.api.helpers import assert_validation_error
from wallet.tests.builders import withdrawal_in_state

from .helpers import AUDIT, POLICY, as_operator, body_of, decide, policy_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(tenant, other_tenant, finance, admin, player):
    """Audit events of both casinos: players' requests, decisions, a policy change, a mark in time."""
    withdrawal_in_state("requested", player=PlayerFactory(tenant=other_tenant))
    first = withdrawal_in_state("requested", player=player)
    assert decide(as_operator(finance), first.pk, "approve", "looks fine").status_code == 200
    mark = timezone.now()
    second = withdrawal_in_state("requested", player=player)
    assert decide(as_operator(admin), second.pk, "reject", "duplicate account").status_code == 200
    assert as_operator(admin).put(POLICY, policy_body(2), format="json").status_code == 200  # tightens: at once
    return {"first": first, "second": second, "mark": mark}


@pytest.fixture
def audit(viewer):
    client = as_operator(viewer)

    def read(**query) -> list[dict]:
        response = client.get(AUDIT, {"limit": 200, **query})
        assert response.status_code == 200, response.content
        return body_of(response)["results"]

    return read


def _own_events(tenant) -> list[int]:
    return list(AuditEvent.objects.filter(tenant_id=tenant.pk).order_by("-id").values_list("id", flat=True))


def test_newest_first_and_only_the_own_casino(audit, trail, tenant):
    rows = audit()
    assert [row["id"] for row in rows] == _own_events(tenant)
    assert rows[0]["action"] == "policy.updated"
    assert {row["tenant"] for row in rows} == {tenant.pk}


def test_an_api_decision_is_recorded_with_its_request(audit, trail, finance):
    (row,) = audit(action="withdrawal.approved")
    assert (row["actor_type"], row["actor_label"], row["target_type"], row["target_id"]) == (
        "operator",
        finance.username,
        "withdrawal",
        str(trail["first"].pk),
    )
    assert (row["reason"], row["before_state"], row["after_state"]) == ("looks fine", "requested", "approved")
    assert row["request_id"] and row["ip"] == "127.0.0.1"


def test_action_exact_or_by_prefix(audit, trail):
    assert {row["action"] for row in audit(action="withdrawal.rejected")} == {"withdrawal.rejected"}
    prefixed = {row["action"] for row in audit(action="withdrawal.")}
    assert prefixed == {"withdrawal.requested", "withdrawal.approved", "withdrawal.rejected"}
    assert audit(action="withdrawal") == []  # no trailing dot: exact, and no action is called that
    assert [row["action"] for row in audit(action="policy.")] == ["policy.updated"]


def test_actor_type_and_actor(audit, trail, finance, admin, player):
    assert {row["actor_type"] for row in audit(actor_type="operator")} == {"operator"}
    assert {row["action"] for row in audit(actor_type="operator")} == {
        "withdrawal.approved",
        "withdrawal.rejected",
        "policy.updated",
    }
    assert {row["actor_label"] for row in audit(actor_type="player")} == {player.user.username}
    assert {row["action"] for row in audit(actor=finance.username.upper())} == {"withdrawal.approved"}
    assert {row["action"] for row in audit(actor=admin.username, actor_type="operator")} == {
        "withdrawal.rejected",
        "policy.updated",
    }


def test_target_type_and_id(audit, trail):
    rows = audit(target_type="withdrawal", target_id=str(trail["second"].pk))
    assert [row["action"] for row in rows] == ["withdrawal.rejected", "withdrawal.requested"]
    assert [row["action"] for row in audit(target_type="paymentpolicy")] == ["policy.updated"]
    assert audit(target_id="no-such-object") == []


def test_created_after_and_before(audit, trail, tenant):
    mark = trail["mark"].isoformat()
    after, before = audit(created_after=mark), audit(created_before=mark)
    assert {row["action"] for row in after} >= {"withdrawal.rejected", "policy.updated"}
    assert "withdrawal.approved" not in {row["action"] for row in after}
    assert "withdrawal.approved" in {row["action"] for row in before}
    assert sorted(row["id"] for row in after + before) == sorted(_own_events(tenant))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("actor_type", "robot"),
        ("actor_type", "OPERATOR"),
        ("created_after", "yesterday"),
        ("created_before", "2024-02-30T00:00:00Z"),
        ("before", "0"),
        ("before", "abc"),
        ("limit", "0"),
        ("limit", "201"),
        ("limit", "ten"),
    ],
)
def test_invalid_filters_are_refused(viewer, name, value):
    assert_validation_error(as_operator(viewer).get(AUDIT, {name: value}), name)


def test_the_before_cursor_returns_every_event_exactly_once(viewer, trail, tenant, player):
    client = as_operator(viewer)
    expected = _own_events(tenant)
    seen, url, pages = [], f"{AUDIT}?limit=3", 0
    while url:
        body = body_of(client.get(url))
        assert len(body["results"]) <= 3
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
        if pages == 2:
            # an event written while paging is newer than the cursor: it does not disturb the pages
            withdrawal_in_state("requested", player=player)
    assert seen == expected
    assert pages == -(-len(expected) // 3)


def test_the_cursor_keeps_the_filters(viewer, trail, tenant):
    client = as_operator(viewer)
    body = body_of(client.get(AUDIT, {"limit": 1, "action": "withdrawal."}))
    assert "action=withdrawal." in body["next"] and "before=" in body["next"]
    ids, url = [body["results"][0]["id"]], body["next"]
    while url:
        body = body_of(client.get(url))
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
    expected = AuditEvent.objects.filter(tenant_id=tenant.pk, action__startswith="withdrawal.").order_by("-id")
    assert ids == list(expected.values_list("id", flat=True)) and len(ids) == 4


def test_a_superuser_sees_every_casino(superuser, trail, tenant, other_tenant):
    rows = body_of(as_operator(superuser).get(AUDIT, {"limit": 200}))["results"]
    assert {tenant.pk, other_tenant.pk} <= {row["tenant"] for row in rows}
