"""Every operator endpoint x every role: who may read, who may decide, who may edit the policy."""

import pytest
from rest_framework.test import APIClient

from core.models import IdempotencyRecord
from players.tests.factories import PlayerFactory
from tenants.models import PaymentPolicy
from wallet.tests.api.helpers import assert_problem, client_for, new_key
from wallet.tests.builders import withdrawal_in_state
from wallet.tests.invariants import expect_no_change

from .helpers import (
    AUDIT,
    DECIDING_ROLES,
    DECISIONS,
    POLICY,
    QUEUE,
    ROLES,
    VIEWER,
    as_operator,
    body_of,
    decide,
    decision_url,
    detail_url,
    snapshot_url,
    state_of,
)

pytestmark = pytest.mark.django_db

READS = {
    "queue": lambda w: QUEUE,
    "detail": lambda w: detail_url(w.pk),
    "policy": lambda w: POLICY,
    "snapshot": lambda w: snapshot_url(w.pk),
    "audit": lambda w: AUDIT,
}
# Every endpoint and method: (method, url for a withdrawal, body)
ENDPOINTS = {
    **{f"GET {name}": ("get", url, None) for name, url in READS.items()},
    **{f"POST {d}": ("post", lambda w, d=d: decision_url(w.pk, d), {"reason": "ok"}) for d in DECISIONS},
    "PUT policy": (
        "put",
        lambda w: POLICY,
        {"payout_retry_limit": 1, "payout_cooldown_seconds": 0, "currency_limits": [], "reason": "Risk review"},
    ),
}


def _send(client, method: str, url: str, body):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, body, format="json", HTTP_IDEMPOTENCY_KEY=new_key())


@pytest.fixture
def requested(player):
    return withdrawal_in_state("requested", player=player)


def _belongs_to_tenant(name: str, body: dict, withdrawal) -> None:
    tenant = withdrawal.tenant
    if name == "queue":
        assert [row["id"] for row in body["results"]] == [str(withdrawal.pk)]
        assert body["results"][0]["tenant"] == tenant.slug
    elif name in ("detail", "snapshot"):
        assert body["transaction"]["id"] == str(withdrawal.pk)
        assert body["transaction"]["tenant"] == tenant.slug
    elif name == "policy":
        assert body["tenant"] == tenant.slug
    else:
        assert body["results"] and {row["tenant"] for row in body["results"]} == {tenant.pk}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", READS)
def test_every_role_reads_every_read_endpoint_of_its_casino(staff, requested, role, name):
    # given an operator of the casino, whatever the role, and a withdrawal awaiting review
    # when they read the endpoint, then it answers 200 with the casino's data only
    response = as_operator(staff[role]).get(READS[name](requested))
    assert response.status_code == 200, response.content
    _belongs_to_tenant(name, body_of(response), requested)


@pytest.mark.parametrize("name", READS)
def test_a_platform_superuser_reads_every_read_endpoint(superuser, requested, name):
    # given a platform superuser (no membership in any casino)
    url = READS[name](requested)
    if name == "policy":
        url += f"?tenant={requested.tenant.slug}"
    # when they read, then it answers 200
    response = as_operator(superuser).get(url)
    assert response.status_code == 200, response.content
    if name != "audit":
        _belongs_to_tenant(name, body_of(response), requested)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_player_token_is_refused_everywhere(requested, endpoint):
    # given a player of the same casino with a valid API token
    method, url, body = ENDPOINTS[endpoint]
    client = client_for(requested.player)
    # when the player calls the operator API, then 401 (a player's token is no operator token) and nothing changes
    with expect_no_change():
        response = _send(client, method, url(requested), body)
    assert_problem(response, 401, "AUTHENTICATION_REQUIRED")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_token_or_a_bad_token_is_401(requested, endpoint):
    method, url, body = ENDPOINTS[endpoint]
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    for client in (APIClient(), bad):
        with expect_no_change():
            response = _send(client, method, url(requested), body)
        assert_problem(response, 401, "AUTHENTICATION_REQUIRED")
        assert response["WWW-Authenticate"].startswith("Token")


def test_an_inactive_operator_is_refused(tenant, finance, requested):
    client = as_operator(finance)
    finance.is_active = False
    finance.save(update_fields=["is_active"])
    assert_problem(client.get(QUEUE), 401, "AUTHENTICATION_REQUIRED")
    with expect_no_change():
        assert_problem(decide(client, requested.pk, "approve"), 401, "AUTHENTICATION_REQUIRED")


@pytest.mark.parametrize("decision", DECISIONS)
def test_a_viewer_may_not_decide(viewer, player, decision):
    # given a withdrawal ready for the decision and a viewer of the casino
    source, _ = DECISIONS[decision]
    withdrawal = withdrawal_in_state(source, player=player)
    records = IdempotencyRecord.objects.count()
    # when the viewer decides, then 403 PERMISSION_DENIED naming the role, and nothing changes
    with expect_no_change():
        body = assert_problem(decide(as_operator(viewer), withdrawal.pk, decision), 403, "PERMISSION_DENIED")
    assert "viewer" in body["detail"]
    assert state_of(withdrawal) == source
    # and the refusal was not stored against the key
    assert IdempotencyRecord.objects.count() == records


@pytest.mark.parametrize("role", [*DECIDING_ROLES, "superuser"])
@pytest.mark.parametrize("decision", DECISIONS)
def test_finance_admin_and_superuser_decide(staff, superuser, player, role, decision):
    # given a withdrawal ready for the decision
    source, target = DECISIONS[decision]
    withdrawal = withdrawal_in_state(source, player=player)
    user = superuser if role == "superuser" else staff[role]
    # when the operator decides with a reason, then the withdrawal moves
    response = decide(as_operator(user), withdrawal.pk, decision)
    assert response.status_code == 200, response.content
    assert body_of(response)["state"] == target
    assert state_of(withdrawal) == target


def test_a_superuser_acts_on_any_tenant(superuser, tenant, other_tenant):
    # given withdrawals awaiting review in two casinos
    here = withdrawal_in_state("requested", player=PlayerFactory(tenant=tenant))
    there = withdrawal_in_state("requested", player=PlayerFactory(tenant=other_tenant))
    client = as_operator(superuser)
    # when the platform superuser approves both (even with the same key), then both are approved
    for withdrawal in (here, there):
        response = decide(client, withdrawal.pk, "approve", key="platform-key")
        assert response.status_code == 200, response.content
        assert "Idempotent-Replayed" not in response
        assert state_of(withdrawal) == "approved"
    # and the keys were recorded under each withdrawal's tenant
    scopes = set(IdempotencyRecord.objects.filter(key="platform-key").values_list("tenant_id", flat=True))
    assert scopes == {tenant.pk, other_tenant.pk}


@pytest.mark.parametrize("role", [VIEWER, "finance"])
def test_only_admin_may_change_the_payment_policy(staff, tenant, role):
    # given the casino's policy
    before = PaymentPolicy.objects.get(tenant=tenant).payout_retry_limit
    body = {"payout_retry_limit": 1, "payout_cooldown_seconds": 5, "currency_limits": [], "reason": "Risk review"}
    # when a viewer or finance operator replaces it (even tightening it), then 403 and nothing changes
    with expect_no_change():
        response = as_operator(staff[role]).put(POLICY, body, format="json")
    assert "admin" in assert_problem(response, 403, "PERMISSION_DENIED")["detail"]
    assert PaymentPolicy.objects.get(tenant=tenant).payout_retry_limit == before
    # when the admin does, then it is replaced
    response = as_operator(staff["admin"]).put(POLICY, body, format="json")
    assert response.status_code == 200, response.content
    assert PaymentPolicy.objects.get(tenant=tenant).payout_retry_limit == 1


def test_a_superuser_names_the_tenant_of_the_policy(superuser, tenant, other_tenant):
    client = as_operator(superuser)
    body = {"payout_retry_limit": 2, "payout_cooldown_seconds": 0, "currency_limits": [], "reason": "Risk review"}
    # without ?tenant= (or with an unknown slug) the request is refused
    for suffix in ("", "?tenant=", "?tenant=no-such-casino"):
        assert_problem(client.get(POLICY + suffix), 400, "VALIDATION_ERROR")
        with expect_no_change():
            assert_problem(client.put(POLICY + suffix, body, format="json"), 400, "VALIDATION_ERROR")
    # with it, the named casino's policy is read and replaced, and no other
    assert body_of(client.get(f"{POLICY}?tenant={other_tenant.slug}"))["tenant"] == other_tenant.slug
    response = client.put(f"{POLICY}?tenant={other_tenant.slug}", body, format="json")
    assert response.status_code == 200, response.content
    assert PaymentPolicy.objects.get(tenant=other_tenant).payout_retry_limit == 2
    assert PaymentPolicy.objects.get(tenant=tenant).payout_retry_limit == 3
