"""The operator API's players: search, the player's page, KYC and operator blocks, by role and tenant."""

import json

import pytest

from backoffice.api.player_serializers import TotalsSerializer
from backoffice.player_context import CurrencyTotals
from core.actors import Actor
from core.models import AuditEvent
from payouts.tests.factories import ProviderAccountFactory
from players.exclusions import block_player, exclude_self, lift_block
from players.kyc import set_kyc_status
from players.limits import set_player_limit
from players.models import Exclusion, KycCheck, KycStatus, Player, RegisterListing
from players.tests.factories import PlayerFactory
from wallet.tests.api.helpers import (
    assert_problem,
    assert_validation_error,
    client_for,
    deposit_request,
    new_key,
    post_money,
)
from wallet.tests.builders import withdrawal_in_state
from wallet.tests.factories import fund
from wallet.tests.invariants import expect_no_change

from .helpers import ADMIN_API, DECIDING_ROLES, ROLES, as_operator, audit_since, body_of, last_audit_id

pytestmark = pytest.mark.django_db

PLAYERS = f"{ADMIN_API}/players/"


def player_url(player_id) -> str:
    return f"{PLAYERS}{player_id}/"


def kyc_url(player_id) -> str:
    return f"{player_url(player_id)}kyc/"


def block_url(player_id) -> str:
    return f"{player_url(player_id)}exclusions/"


def lift_url(player_id, exclusion_id) -> str:
    return f"{player_url(player_id)}exclusions/{exclusion_id}/lift/"


def set_kyc(client, player_id, status="verified", reason="Passport and utility bill checked", **body):
    return post_money(client, kyc_url(player_id), {"status": status, "reason": reason, **body})


def block(client, player_id, reason="Affordability check pending", **body):
    return post_money(client, block_url(player_id), {"reason": reason, **body})


def lift(client, player_id, exclusion_id, reason="Affordability check passed"):
    return post_money(client, lift_url(player_id, exclusion_id), {"reason": reason})


def kyc_of(player) -> str:
    return Player.objects.values_list("kyc_status", flat=True).get(pk=player.pk)


def active_blocks(player) -> int:
    return Exclusion.objects.filter(player=player, kind="operator_block", lifted_at__isnull=True).count()


@pytest.fixture
def unverified(tenant):
    return PlayerFactory(tenant=tenant, kyc_status=KycStatus.UNVERIFIED, user__username="ursula")


@pytest.fixture
def foreign_player(other_tenant):
    return PlayerFactory(tenant=other_tenant, kyc_status=KycStatus.UNVERIFIED)


# --- search ----------------------------------------------------------------------------


def test_search_finds_the_casinos_players_by_name_username_reference_and_number(viewer, tenant, other_tenant):
    mia = PlayerFactory(tenant=tenant, user__username="mia.rossi", display_name="Mia Rossi", external_ref="EXT-77")
    PlayerFactory(tenant=tenant, user__username="leo", display_name="Leo Janssen")
    PlayerFactory(tenant=other_tenant, user__username="mia.other", display_name="Mia Elsewhere")
    client = as_operator(viewer)

    def found(**query):
        response = client.get(PLAYERS, query)
        assert response.status_code == 200, response.content
        return [row["username"] for row in body_of(response)["results"]]

    assert found(q="mia") == ["mia.rossi"]  # never the other casino's Mia
    assert found(q="Rossi") == ["mia.rossi"]
    assert found(q="ext-77") == ["mia.rossi"]
    assert found(q=str(mia.pk)) == ["mia.rossi"]
    assert found() == ["leo", "mia.rossi"]  # newest first
    row = body_of(client.get(PLAYERS, {"q": "mia"}))["results"][0]
    assert row == {
        "id": mia.pk,
        "username": "mia.rossi",
        "display_name": "Mia Rossi",
        "external_ref": "EXT-77",
        "tenant": tenant.slug,
        "kyc_status": "verified",
        "created_at": row["created_at"],
    }


def test_search_is_paginated(viewer, tenant):
    for n in range(5):
        PlayerFactory(tenant=tenant, user__username=f"paged{n}")
    client = as_operator(viewer)
    body = body_of(client.get(PLAYERS, {"q": "paged", "page_size": 2, "page": 3}))
    assert (body["count"], body["page"], body["pages"]) == (5, 3, 3)
    assert [row["username"] for row in body["results"]] == ["paged0"]


@pytest.mark.parametrize(
    ("query", "field"), [({"page_size": 0}, "page_size"), ({"page": "x"}, "page"), ({"q": "q" * 151}, "q")]
)
def test_bad_search_parameters_are_400(viewer, query, field):
    assert_validation_error(as_operator(viewer).get(PLAYERS, query), field)


@pytest.mark.parametrize("query", ["²", "٣", "9" * 40, "' OR 1=1 --", "%"])
def test_odd_searches_find_nothing_and_never_fail(viewer, player, query):
    response = as_operator(viewer).get(PLAYERS, {"q": query})
    assert response.status_code == 200
    assert body_of(response)["results"] == []


@pytest.mark.parametrize("query", ["²", "9" * 40])
def test_odd_player_filters_in_the_review_queue_never_fail(viewer, player, query):
    response = as_operator(viewer).get(f"{ADMIN_API}/withdrawals/", {"player": query})
    assert response.status_code == 200 and body_of(response)["results"] == []


# --- the player's page -----------------------------------------------------------------


def test_the_player_page_shows_money_kyc_limits_exclusions_and_flags(viewer, finance, tenant, unverified):
    # given a player with money, a KYC history, a limit with a pending raise, a past block and a break
    fund(unverified, 300_00)
    operator = Actor.operator(finance)
    set_kyc_status(unverified, status="pending", actor=operator, reason="Documents asked for")
    set_kyc_status(unverified, status="verified", actor=operator, reason="Passport checked", document_ref="DOC-1")
    me = Actor.player(unverified.user)
    set_player_limit(unverified, currency="EUR", kind="deposit", period="week", amount=500_00, actor=me)
    set_player_limit(unverified, currency="EUR", kind="deposit", period="week", amount=900_00, actor=me)
    old = block_player(unverified, actor=operator, reason="Chargeback under review")
    lift_block(old, actor=operator, reason="Chargeback withdrawn")
    timeout = exclude_self(unverified, kind="timeout", days=7, actor=me)
    withdrawal = withdrawal_in_state("requested", player=unverified, amount=40_00, funded=False)
    # when a viewer opens the player's page
    response = as_operator(viewer).get(player_url(unverified.pk))
    # then everything an operator weighs is there
    assert response.status_code == 200, response.content
    body = body_of(response)
    assert (body["id"], body["username"], body["tenant"]) == (unverified.pk, "ursula", tenant.slug)
    assert body["balances"] == [{"currency": "EUR", "available": "260.00", "held": "40.00", "receivable": "0.00"}]
    assert body["restriction"] is None
    kyc = body["kyc"]
    assert (kyc["player"], kyc["status"]) == (unverified.pk, "verified") and kyc["updated_at"]
    assert [(c["from_status"], c["to_status"], c["document_ref"]) for c in kyc["history"]] == [
        ("pending", "verified", "DOC-1"),
        ("unverified", "pending", ""),
    ]
    assert kyc["history"][0]["actor_label"] == finance.username
    (limit,) = body["limits"]
    assert (limit["currency"], limit["kind"], limit["period"], limit["amount"]) == ("EUR", "deposit", "week", "500.00")
    assert limit["pending"]["amount"] == "900.00" and limit["pending"]["effective_at"]
    exclusions = body["exclusions"]
    assert exclusions["in_force"] == {
        "kind": "timeout",
        "ends_at": exclusions["in_force"]["ends_at"],
        "exclusion": timeout.pk,
    }
    assert [(e["id"], e["active"], e["liftable"]) for e in exclusions["active"]] == [(timeout.pk, True, False)]
    (past,) = exclusions["past"]
    assert (past["id"], past["kind"], past["active"], past["liftable"]) == (old.pk, "operator_block", False, False)
    assert (past["reason"], past["lift_reason"], past["lifted_by"]) == (
        "Chargeback under review",
        "Chargeback withdrawn",
        finance.username,
    )
    assert body["totals"] == [
        {
            "currency": "EUR",
            "deposited": "300.00",
            "withdrawn": "0.00",
            "net": "300.00",
            "withdrawing": "40.00",
            "deposits": 1,
            "withdrawals": 0,
        }
    ]
    assert [tx["type"] for tx in body["recent_transactions"]] == ["withdrawal", "deposit"]
    (recent,) = body["recent_withdrawals"]
    assert (recent["id"], recent["reference"]) == (str(withdrawal.pk), withdrawal.reference)
    assert set(recent["risk_flags"]) == set(withdrawal.risk_flags) and "first_withdrawal" in recent["risk_flags"]


def test_a_listing_in_the_exclusion_register_is_in_force(viewer, player):
    RegisterListing.objects.create(key=player.user.username)
    body = body_of(as_operator(viewer).get(player_url(player.pk)))
    assert body["exclusions"]["in_force"] == {"kind": "register", "ends_at": None, "exclusion": None}
    assert body["exclusions"]["active"] == []


def test_net_is_negative_when_the_player_took_out_more_than_they_put_in():
    row = TotalsSerializer(CurrencyTotals("EUR", deposited=10_00, withdrawn=25_50, deposits=1, withdrawals=1)).data
    assert (row["net"], row["deposited"], row["withdrawn"]) == ("-15.50", "10.00", "25.50")


# --- tenants and roles -----------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_another_casinos_player_and_exclusion_are_404_for_every_role(staff, foreign_player, role):
    foreign_block = block_player(foreign_player, actor=Actor.system("tests"), reason="Their own casino's block")
    client = as_operator(staff[role])
    for response in (client.get(player_url(foreign_player.pk)),):
        body = assert_problem(response, 404, "NOT_FOUND")
        assert foreign_player.user.username not in str(body)
    with expect_no_change():
        assert_problem(set_kyc(client, foreign_player.pk), 404, "NOT_FOUND")
        assert_problem(block(client, foreign_player.pk), 404, "NOT_FOUND")
        assert_problem(lift(client, foreign_player.pk, foreign_block.pk), 404, "NOT_FOUND")
    assert kyc_of(foreign_player) == "unverified" and active_blocks(foreign_player) == 1
    assert not KycCheck.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_another_players_exclusion_under_this_player_is_404(staff, player, tenant, role):
    other = PlayerFactory(tenant=tenant)
    others_block = block_player(other, actor=Actor.system("tests"), reason="Someone else's block")
    client = as_operator(staff[role])
    assert_problem(lift(client, player.pk, others_block.pk), 404, "NOT_FOUND")
    assert active_blocks(other) == 1


@pytest.mark.parametrize("bad", ["garbage", "0", "²", "9" * 40, "-1", "1.5"])
def test_unknown_and_garbage_ids_are_404(finance, player, bad):
    client = as_operator(finance)
    assert_problem(client.get(player_url(bad)), 404, "NOT_FOUND")
    with expect_no_change():
        assert_problem(set_kyc(client, bad), 404, "NOT_FOUND")
        assert_problem(block(client, bad), 404, "NOT_FOUND")
        assert_problem(lift(client, player.pk, bad), 404, "NOT_FOUND")


def test_a_viewer_reads_but_may_not_act(viewer, unverified):
    own_block = block_player(unverified, actor=Actor.system("tests"), reason="Set up by the test")
    client = as_operator(viewer)
    assert client.get(player_url(unverified.pk)).status_code == 200
    mark = last_audit_id()
    assert_problem(set_kyc(client, unverified.pk), 403, "PERMISSION_DENIED")
    assert_problem(block(client, unverified.pk), 403, "PERMISSION_DENIED")
    assert_problem(lift(client, unverified.pk, own_block.pk), 403, "PERMISSION_DENIED")
    assert kyc_of(unverified) == "unverified" and active_blocks(unverified) == 1
    assert audit_since(mark) == []


def test_a_platform_superuser_acts_in_any_casino(superuser, foreign_player):
    response = set_kyc(client_for(superuser), foreign_player.pk)
    assert response.status_code == 200, response.content
    assert kyc_of(foreign_player) == "verified"


# --- KYC -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", DECIDING_ROLES)
def test_finance_and_admin_set_the_kyc_status_kept_in_history_and_audited(staff, unverified, role):
    client, mark = as_operator(staff[role]), last_audit_id()
    response = set_kyc(client, unverified.pk, "verified", "Passport checked", document_ref="vault/42")
    assert response.status_code == 200, response.content
    body = body_of(response)
    assert (body["player"], body["status"]) == (unverified.pk, "verified") and body["updated_at"]
    assert [(c["from_status"], c["to_status"], c["reason"], c["document_ref"]) for c in body["history"]] == [
        ("unverified", "verified", "Passport checked", "vault/42")
    ]
    assert kyc_of(unverified) == "verified"
    check = KycCheck.objects.get(player=unverified)
    assert (check.actor_type, check.actor_user_id) == ("operator", staff[role].pk)
    (event,) = audit_since(mark)
    assert (event.action, event.actor_label, event.target_type, event.target_id) == (
        "kyc.status_changed",
        staff[role].username,
        "player",
        str(unverified.pk),
    )
    assert (event.before_state, event.after_state, event.reason) == ("unverified", "verified", "Passport checked")
    assert event.data == {"document_ref": "vault/42"}


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_kyc_change_without_a_reason_is_refused(finance, unverified, reason):
    client = as_operator(finance)
    body = {"status": "verified"} if reason is None else {"status": "verified", "reason": reason}
    with expect_no_change():
        assert_problem(post_money(client, kyc_url(unverified.pk), body), 400, "REVIEW_REASON_REQUIRED")
    assert kyc_of(unverified) == "unverified" and not KycCheck.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "approved", "reason": "x"}, "status"),
        ({"reason": "x"}, "status"),
        ({"status": "verified", "reason": "x", "document_ref": "d" * 201}, "document_ref"),
        ({"status": "verified", "reason": "r" * 2001}, "reason"),
        ({"status": ["verified"], "reason": "x"}, "status"),
    ],
)
def test_a_kyc_change_that_is_not_valid_is_400(finance, unverified, body, field):
    assert_validation_error(post_money(as_operator(finance), kyc_url(unverified.pk), body), field)
    assert kyc_of(unverified) == "unverified"


def test_setting_the_status_the_player_has_changes_nothing(finance, player):
    mark = last_audit_id()
    response = set_kyc(as_operator(finance), player.pk, "verified")
    assert response.status_code == 200 and body_of(response)["history"] == []
    assert audit_since(mark) == []


def test_a_kyc_change_needs_an_idempotency_key_and_a_retry_replays_it(finance, finance2, unverified):
    client = as_operator(finance)
    assert_problem(
        post_money(client, kyc_url(unverified.pk), {"status": "verified", "reason": "x"}, key=None),
        400,
        "IDEMPOTENCY_KEY_REQUIRED",
    )
    key = new_key()
    first = post_money(client, kyc_url(unverified.pk), {"status": "verified", "reason": "Passport checked"}, key=key)
    assert first.status_code == 200
    # a colleague rejects meanwhile; then the first request is retried (a lost response)
    set_kyc(as_operator(finance2), unverified.pk, "rejected", "Document forged")
    again = post_money(client, kyc_url(unverified.pk), {"status": "verified", "reason": "Passport checked"}, key=key)
    # then the retry answers as the first time and does not undo the colleague's change
    assert again["Idempotent-Replayed"] == "true" and again.content == first.content
    assert kyc_of(unverified) == "rejected"
    assert KycCheck.objects.filter(player=unverified).count() == 2


# --- blocks ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", DECIDING_ROLES)
def test_a_block_stops_deposits_and_lifting_it_lets_them_through(staff, tenant, player, role):
    # given a casino with a PSP, so the player API opens deposits
    ProviderAccountFactory(tenant=tenant)
    operator, player_api, mark = as_operator(staff[role]), client_for(player), last_audit_id()
    # when finance blocks the player
    response = block(operator, player.pk, "Affordability check pending")
    # then the block is in force, audited, and the player's deposit is refused
    assert response.status_code == 201, response.content
    blocked = body_of(response)
    assert (blocked["kind"], blocked["active"], blocked["liftable"], blocked["ends_at"]) == (
        "operator_block",
        True,
        True,
        None,
    )
    assert (blocked["reason"], blocked["imposed_by"]) == ("Affordability check pending", staff[role].username)
    refused = assert_problem(deposit_request(player_api), 403, "PLAYER_EXCLUDED")
    assert (refused["kind"], refused["ends_at"]) == ("operator_block", None)
    assert [e.action for e in audit_since(mark)] == ["exclusion.started", "deposit.refused"]
    # when the block is lifted with a reason
    lifted = lift(operator, player.pk, blocked["id"], "Affordability check passed")
    # then it is past, audited, and the player deposits again
    assert lifted.status_code == 200, lifted.content
    assert (body_of(lifted)["active"], body_of(lifted)["lift_reason"]) == (False, "Affordability check passed")
    assert deposit_request(player_api).status_code == 201
    started, lift_event = audit_since(mark, action__startswith="exclusion.")
    assert (lift_event.action, lift_event.reason, lift_event.data["exclusion"]) == (
        "exclusion.lifted",
        "Affordability check passed",
        blocked["id"],
    )
    assert started.data["kind"] == "operator_block" and started.reason == "Affordability check pending"


def test_a_block_for_some_days_ends_by_itself(finance, player):
    body = body_of(block(as_operator(finance), player.pk, days=30))
    exclusion = Exclusion.objects.get(pk=body["id"])
    assert (exclusion.ends_at - exclusion.starts_at).days == 30
    assert body["ends_at"] is not None


@pytest.mark.parametrize("days", [0, 3651, -1, "x", True, 1.5])
def test_a_block_of_impossible_days_is_refused(finance, player, days):
    assert_validation_error(block(as_operator(finance), player.pk, days=days), "days")
    assert active_blocks(player) == 0


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_block_without_a_reason_is_refused(finance, player, reason):
    with expect_no_change():
        assert_problem(block(as_operator(finance), player.pk, reason), 400, "REVIEW_REASON_REQUIRED")
    assert active_blocks(player) == 0


def test_a_block_retried_with_its_key_blocks_once(finance, player):
    client, key = as_operator(finance), new_key()
    first = post_money(client, block_url(player.pk), {"reason": "Fraud check"}, key=key)
    again = post_money(client, block_url(player.pk), {"reason": "Fraud check"}, key=key)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.content == first.content
    assert active_blocks(player) == 1
    # while a second block with a new key is a second act (a longer one, say)
    assert block(client, player.pk, "Fraud confirmed", days=365).status_code == 201
    assert active_blocks(player) == 2


def test_a_players_own_exclusion_cannot_be_lifted(finance, player):
    own = exclude_self(player, kind="self_exclusion", days=180, actor=Actor.player(player.user))
    with expect_no_change():
        body = assert_problem(lift(as_operator(finance), player.pk, own.pk), 409, "EXCLUSION_NOT_LIFTABLE")
    assert body["kind"] == "self_exclusion"
    own.refresh_from_db()
    assert own.lifted_at is None and own.is_active(own.starts_at)


def test_lifting_a_lifted_or_ended_block_changes_nothing(finance, player):
    client, operator = as_operator(finance), Actor.operator(finance)
    lifted = block_player(player, actor=operator, reason="First")
    lift_block(lifted, actor=operator, reason="Done")
    ended = block_player(player, actor=operator, reason="Second", days=1)
    Exclusion.objects.filter(pk=ended.pk).update(
        starts_at=ended.starts_at.replace(year=2020), ends_at=ended.ends_at.replace(year=2020)
    )
    mark = last_audit_id()
    for exclusion in (lifted, ended):
        response = lift(client, player.pk, exclusion.pk, "Again")
        assert response.status_code == 200, response.content
        assert body_of(response)["active"] is False
    assert audit_since(mark) == []
    assert Exclusion.objects.get(pk=ended.pk).lifted_at is None
    assert Exclusion.objects.get(pk=lifted.pk).lift_reason == "Done"


def test_a_lift_without_a_reason_is_refused(finance, player):
    own_block = block_player(player, actor=Actor.operator(finance), reason="Check")
    with expect_no_change():
        assert_problem(lift(as_operator(finance), player.pk, own_block.pk, "  "), 400, "REVIEW_REASON_REQUIRED")
    assert active_blocks(player) == 1


def test_protection_posts_are_in_the_schema_with_their_errors(client):
    document = json.loads(client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    paths = document["paths"]
    reads = [("/api/v1/admin/players/", "get"), ("/api/v1/admin/players/{player_id}/", "get")]
    posts = [
        ("/api/v1/admin/players/{player_id}/kyc/", "post"),
        ("/api/v1/admin/players/{player_id}/exclusions/", "post"),
        ("/api/v1/admin/players/{player_id}/exclusions/{exclusion_id}/lift/", "post"),
    ]
    for path, method in reads + posts:
        operation = paths[path][method]
        assert operation["tags"] == ["operator"], path
        assert {"401", "403", "404"} <= set(operation["responses"]), path
        keyed = "Idempotency-Key" in {p["name"] for p in operation.get("parameters", [])}
        assert keyed == (method == "post"), path
    for path, method in posts:
        assert {"400", "409", "422"} <= set(paths[path][method]["responses"]), path
    lift_examples = paths[posts[2][0]]["post"]["responses"]["409"]["content"]["application/problem+json"]["examples"]
    assert any(e["value"]["error_code"] == "EXCLUSION_NOT_LIFTABLE" for e in lift_examples.values())
    flag = [p for p in paths["/api/v1/admin/withdrawals/"]["get"]["parameters"] if p["name"] == "flag"]
    assert flag and "velocity" in flag[0]["description"]
    assert AuditEvent.objects.count() == 0  # reading the schema writes nothing
