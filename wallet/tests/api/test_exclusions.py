"""GET and POST exclusions/: breaks and self-exclusion, which only ever extend, and what they stop."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from core.actors import Actor
from core.models import AuditEvent
from players.exclusions import block_player
from players.models import Exclusion
from tenants.tests.factories import OperatorFactory
from wallet.models import Deposit
from wallet.tests.factories import fund
from wallet.tests.invariants import expect_no_change

from .helpers import (
    EXCLUSIONS,
    assert_problem,
    assert_validation_error,
    client_for,
    deposit_request,
    page_session_client,
    post_exclusion,
    withdrawal_request,
)

pytestmark = pytest.mark.django_db


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def _exclusions(client) -> list[dict]:
    response = client.get(EXCLUSIONS)
    assert response.status_code == 200, response.content[:300]
    assert set(response.json()) == {"exclusions"}
    return response.json()["exclusions"]


def test_taking_a_break_stops_deposits_but_not_withdrawals(api, player):
    # given a player with 100.00 EUR
    fund(player, 100_00)
    # when the player takes a break of 7 days
    response = post_exclusion(api, {"kind": "timeout", "days": 7})
    # then it starts now and ends in 7 days, is listed as active and audited
    assert response.status_code == 201, response.content[:300]
    body = response.json()
    assert set(body) == {"id", "kind", "starts_at", "ends_at"}
    assert body["kind"] == "timeout"
    assert _at(body["ends_at"]) - _at(body["starts_at"]) == timedelta(days=7)
    assert _exclusions(api) == [{**body, "active": True}]
    assert AuditEvent.objects.filter(action="exclusion.started", target_id=str(player.pk)).count() == 1
    # and a deposit is refused with the break's kind and end, while a withdrawal still goes through
    deposits = Deposit.objects.filter(player=player).count()
    refused = assert_problem(deposit_request(api, "10.00"), 403, "PLAYER_EXCLUDED")
    assert refused["kind"] == "timeout" and _at(refused["ends_at"]) == _at(body["ends_at"])
    assert Deposit.objects.filter(player=player).count() == deposits
    assert withdrawal_request(api, "10.00").status_code == 201


@pytest.mark.parametrize(
    ("request_body", "length"),
    [
        ({"kind": "timeout", "days": 1}, timedelta(days=1)),
        ({"kind": "timeout", "days": 42}, timedelta(days=42)),
        ({"kind": "self_exclusion", "days": 180}, timedelta(days=180)),
        ({"kind": "self_exclusion", "days": 1825}, timedelta(days=1825)),
        ({"kind": "self_exclusion", "permanent": True}, None),
        ({"kind": "timeout", "days": 3, "permanent": False}, timedelta(days=3)),
    ],
)
def test_the_lengths_a_player_may_choose(api, request_body, length):
    response = post_exclusion(api, request_body)
    assert response.status_code == 201, response.content[:300]
    body = response.json()
    assert body["kind"] == request_body["kind"]
    if length is None:
        assert body["ends_at"] is None
    else:
        assert _at(body["ends_at"]) - _at(body["starts_at"]) == length


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"kind": "timeout", "days": 0}, "days"),
        ({"kind": "timeout", "days": 43}, "days"),
        ({"kind": "self_exclusion", "days": 179}, "days"),
        ({"kind": "self_exclusion", "days": 1826}, "days"),
        ({"kind": "self_exclusion"}, "days"),
        ({"kind": "timeout"}, "days"),
        ({"kind": "timeout", "permanent": True}, "permanent"),
        ({"kind": "self_exclusion", "days": 200, "permanent": True}, "days"),
        ({"kind": "timeout", "days": "7"}, "days"),  # text, never coerced
        ({"kind": "timeout", "days": 7.0}, "days"),
        ({"kind": "timeout", "days": True}, "days"),
        ({"kind": "self_exclusion", "permanent": "true"}, "permanent"),
        ({"kind": "self_exclusion", "permanent": 1}, "permanent"),
        ({"kind": "operator_block", "days": 7}, "kind"),  # only an operator blocks
        ({"kind": "register", "days": 7}, "kind"),
        ({"days": 7}, "kind"),
    ],
)
def test_an_invalid_exclusion_is_refused_and_nothing_starts(api, request_body, field):
    with expect_no_change():
        response = post_exclusion(api, request_body)
    assert_validation_error(response, field)
    assert not Exclusion.objects.exists()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"kind": "self_exclusion", "days": 365}, {"kind": "timeout", "days": 7}),
        ({"kind": "timeout", "days": 30}, {"kind": "timeout", "days": 29}),
        ({"kind": "self_exclusion", "permanent": True}, {"kind": "self_exclusion", "days": 1825}),
    ],
    ids=["break-inside-self-exclusion", "shorter-break", "after-permanent"],
)
def test_an_exclusion_that_would_end_sooner_is_refused(api, first, second):
    # given an exclusion in force
    earlier = post_exclusion(api, first).json()
    # when the player asks for one that would end sooner
    with expect_no_change():
        response = post_exclusion(api, second)
    # then it is refused with the kind and end of the one in force, which stays the only one
    body = assert_problem(response, 409, "EXCLUSION_WOULD_SHORTEN")
    assert body["kind"] == earlier["kind"]
    assert _at(body["ends_at"]) == _at(earlier["ends_at"])
    assert [row["id"] for row in _exclusions(api)] == [earlier["id"]]


def test_a_longer_exclusion_extends_a_break(api):
    # given a break of 7 days
    first = post_exclusion(api, {"kind": "timeout", "days": 7}).json()
    # when the player self-excludes for 180 days
    second = post_exclusion(api, {"kind": "self_exclusion", "days": 180})
    # then both are listed, newest first, and both are active
    assert second.status_code == 201
    listed = [(row["id"], row["active"]) for row in _exclusions(api)]
    assert listed == [(second.json()["id"], True), (first["id"], True)]


def test_an_ended_exclusion_and_a_casinos_block_are_listed(api, player):
    # given a break that ended yesterday and a block by the casino
    ended = post_exclusion(api, {"kind": "timeout", "days": 1}).json()
    Exclusion.objects.filter(pk=ended["id"]).update(
        starts_at=timezone.now() - timedelta(days=2), ends_at=timezone.now() - timedelta(days=1)
    )
    operator = OperatorFactory(tenant=player.tenant)
    block = block_player(player, actor=Actor.operator(operator.user), reason="Affordability check")
    # then the player sees both, the block active (without the casino's reason) and the break ended
    rows = _exclusions(api)
    assert [(row["id"], row["kind"], row["active"]) for row in rows] == [
        (block.pk, "operator_block", True),
        (ended["id"], "timeout", False),
    ]
    assert all(set(row) == {"id", "kind", "starts_at", "ends_at", "active"} for row in rows)
    # and a break can still be taken on top of the block
    assert post_exclusion(api, {"kind": "timeout", "days": 2}).status_code == 201


def test_a_player_sees_only_their_own_exclusions(api, player, other_player, foreign_player):
    # given other players who took breaks
    post_exclusion(client_for(other_player), {"kind": "timeout", "days": 3})
    post_exclusion(client_for(foreign_player), {"kind": "self_exclusion", "days": 200})
    # then the player sees none and is not excluded by them
    assert _exclusions(api) == []
    fund(player, 50_00)
    assert deposit_request(api, "10.00").status_code == 201


def test_an_idempotency_key_is_optional_and_honoured(api, player):
    # when the page sends its break with a key, and the same request again (a retry after a lost answer)
    first = post_exclusion(api, {"kind": "timeout", "days": 5}, HTTP_IDEMPOTENCY_KEY="break-1")
    again = post_exclusion(api, {"kind": "timeout", "days": 5}, HTTP_IDEMPOTENCY_KEY="break-1")
    # then one break was taken and the retry got the first answer
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Exclusion.objects.filter(player=player).count() == 1
    # and the same key for another request is refused, while a request without a key simply runs
    assert_problem(
        post_exclusion(api, {"kind": "timeout", "days": 6}, HTTP_IDEMPOTENCY_KEY="break-1"),
        422,
        "IDEMPOTENCY_KEY_REUSED",
    )
    assert post_exclusion(api, {"kind": "timeout", "days": 6}).status_code == 201
    assert Exclusion.objects.filter(player=player).count() == 2


def test_the_player_pages_session_token_works_like_the_api_token(player):
    page = page_session_client(player)
    created = post_exclusion(page, {"kind": "timeout", "days": 2})
    assert created.status_code == 201
    assert _exclusions(page) == _exclusions(client_for(player))
    assert _exclusions(page)[0]["id"] == created.json()["id"]


def test_no_token_is_401(client):
    assert_problem(client.get(EXCLUSIONS), 401, "AUTHENTICATION_REQUIRED")
    assert_problem(
        client.post(EXCLUSIONS, {"kind": "timeout", "days": 1}, content_type="application/json"),
        401,
        "AUTHENTICATION_REQUIRED",
    )
    assert not Exclusion.objects.exists()
