"""Tenant isolation: another casino's ids are 404 everywhere, for every role, and never leak."""

import pytest

from players.tests.factories import PlayerFactory
from tenants.models import PaymentPolicy
from wallet.tests.api.helpers import assert_problem
from wallet.tests.builders import deposit_in_state, withdrawal_in_state
from wallet.tests.invariants import expect_no_change

from .helpers import (
    AUDIT,
    DECISIONS,
    POLICY,
    QUEUE,
    ROLES,
    as_operator,
    body_of,
    decide,
    decision_url,
    detail_url,
    snapshot_url,
    state_of,
)

pytestmark = pytest.mark.django_db

GARBAGE_IDS = ["garbage", "1", "00000000-0000-0000-0000-000000000000", "a" * 300, "%27%20OR%201%3D1--", "null"]


@pytest.fixture
def foreign(other_tenant):
    """Another casino's withdrawal (one per decision's source state) and deposit."""
    player = PlayerFactory(tenant=other_tenant)
    withdrawals = {
        state: withdrawal_in_state(state, player=player) for state in ("requested", "approved", "payout_failed")
    }
    return {"withdrawals": withdrawals, "deposit": deposit_in_state("completed", player=player)}


@pytest.fixture
def own(player):
    return withdrawal_in_state("requested", player=player)


@pytest.mark.parametrize("role", ROLES)
def test_another_casinos_ids_are_404_on_every_endpoint_for_every_role(staff, foreign, role):
    client = as_operator(staff[role])
    withdrawal, deposit = foreign["withdrawals"]["requested"], foreign["deposit"]
    # when reading another casino's withdrawal or deposit, then 404 NOT_FOUND with no data
    for url in (
        detail_url(withdrawal.pk),
        snapshot_url(withdrawal.pk),
        snapshot_url(deposit.pk),
        detail_url(deposit.pk),
    ):
        body = assert_problem(client.get(url), 404, "NOT_FOUND")
        assert str(withdrawal.pk) not in str(body) and withdrawal.reference not in str(body)
    # when deciding on it, whatever the role, then 404 (never 403) and nothing changes anywhere
    for decision, (source, _) in DECISIONS.items():
        target = foreign["withdrawals"][source]
        with expect_no_change():
            assert_problem(decide(client, target.pk, decision), 404, "NOT_FOUND")
        assert state_of(target) == source
    with expect_no_change():
        assert_problem(decide(client, deposit.pk, "approve"), 404, "NOT_FOUND")


@pytest.mark.parametrize("role", ROLES)
def test_unknown_and_garbage_ids_are_404(staff, role):
    client = as_operator(staff[role])
    for bad in GARBAGE_IDS:
        for url in (detail_url(bad), snapshot_url(bad)):
            assert_problem(client.get(url), 404, "NOT_FOUND")
        with expect_no_change():
            assert_problem(decide(client, bad, "approve"), 404, "NOT_FOUND")


def test_an_uppercase_or_unhyphenated_id_names_the_same_withdrawal(finance, own):
    client = as_operator(finance)
    for spelling in (str(own.pk).upper(), own.pk.hex, own.pk.hex.upper()):
        assert body_of(client.get(detail_url(spelling)))["transaction"]["id"] == str(own.pk)
        assert body_of(client.get(snapshot_url(spelling)))["transaction"]["id"] == str(own.pk)
    response = decide(client, str(own.pk).upper(), "approve")
    assert response.status_code == 200, response.content
    assert body_of(response)["id"] == str(own.pk)
    assert state_of(own) == "approved"


@pytest.mark.parametrize("role", ROLES)
def test_the_queue_shows_only_the_own_casino(staff, own, foreign, role):
    client = as_operator(staff[role])
    body = body_of(client.get(QUEUE))
    # then only the own casino's withdrawal is listed and counted
    assert [row["id"] for row in body["results"]] == [str(own.pk)]
    assert body["count"] == 1 and body["counts_by_state"] == {"requested": 1}
    # and filtering by the other casino's player or a state finds nothing of theirs
    foreign_player = foreign["withdrawals"]["requested"].player
    for query in ({"player": str(foreign_player.pk)}, {"player": foreign_player.user.username}, {"state": "approved"}):
        body = body_of(client.get(QUEUE, query))
        assert body["results"] == [] and body["count"] == 0


def test_a_superuser_queue_spans_casinos(superuser, own, foreign):
    body = body_of(as_operator(superuser).get(QUEUE, {"page_size": 200}))
    ids = {row["id"] for row in body["results"]}
    assert str(own.pk) in ids
    assert {str(w.pk) for w in foreign["withdrawals"].values()} <= ids


@pytest.mark.parametrize("role", ROLES)
def test_the_audit_trail_shows_only_the_own_casino(staff, tenant, own, foreign, role):
    client = as_operator(staff[role])
    body = body_of(client.get(AUDIT, {"limit": 200}))
    assert body["results"] and {row["tenant"] for row in body["results"]} == {tenant.pk}
    # and asking for the other casino's objects by id finds nothing
    for target in (foreign["withdrawals"]["requested"].pk, foreign["deposit"].pk):
        assert body_of(client.get(AUDIT, {"target_id": str(target)}))["results"] == []


def test_a_snapshot_holds_only_its_own_casinos_rows(finance, tenant, own, foreign):
    body = body_of(as_operator(finance).get(snapshot_url(own.pk)))
    assert body["transaction"]["tenant"] == tenant.slug
    assert {row["tenant"] for row in body["audit_events"]} == {tenant.pk}
    assert {row["target_id"] for row in body["audit_events"]} == {str(own.pk)}


def test_a_tenant_admin_cannot_name_another_casinos_policy(admin, tenant, other_tenant):
    client = as_operator(admin)
    # given ?tenant=<other slug>, then the own casino's policy is read and written, never the other's
    assert body_of(client.get(f"{POLICY}?tenant={other_tenant.slug}"))["tenant"] == tenant.slug
    body = {"payout_retry_limit": 1, "payout_cooldown_seconds": 0, "currency_limits": [], "reason": "Risk review"}
    response = client.put(f"{POLICY}?tenant={other_tenant.slug}", body, format="json")
    assert response.status_code == 200 and body_of(response)["tenant"] == tenant.slug
    assert PaymentPolicy.objects.get(tenant=other_tenant).payout_retry_limit == 3
    assert PaymentPolicy.objects.get(tenant=tenant).payout_retry_limit == 1


def test_a_foreign_id_without_a_key_is_refused_before_anything(finance, foreign):
    # the key check comes first and says nothing about the object
    url = decision_url(foreign["withdrawals"]["requested"].pk, "approve")
    with expect_no_change():
        response = as_operator(finance).post(url, {"reason": "x"}, format="json")
    assert_problem(response, 400, "IDEMPOTENCY_KEY_REQUIRED")
