"""Refused webhook signatures are limited per source address (429 past 60 a minute) and audited in
aggregate: a flood leaves one audit event per address and minute, carrying the count and the first
refusal's details, and valid deliveries are never counted."""

import pytest

from core.models import AuditEvent, RefusalTally
from core.tests.refusals import aggregates
from payouts.models import WebhookEvent
from payouts.tests.factories import ProviderAccountFactory
from wallet.tests.api.helpers import assert_problem
from wallet.tests.invariants import expect_no_change

from .helpers import envelope, post_event, send_event, signed_headers

pytestmark = pytest.mark.django_db

ATTACKER = "198.51.100.7"
NEIGHBOUR = "203.0.113.9"
WRONG_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def forged(web, secret, n: int, source: str = ATTACKER):
    """A delivery with a wrong signature, its id numbered `n`, from `source`."""
    event_id, body = envelope("payment.succeeded", {"reference": "nothing"}, event_id=f"evt_forged_{n:04d}")
    headers = {**signed_headers(secret, event_id, body), "webhook-signature": WRONG_SIGNATURE}
    return web.post(
        "/api/v1/webhooks/psp/sandbox/", data=body, content_type="application/json", headers=headers, REMOTE_ADDR=source
    )


def valid(web, secret, n: int, source: str = ATTACKER):
    """A correctly signed event of a type we do not handle: stored, answered 200, nothing applied."""
    event_id, body = envelope("test.ping", {}, event_id=f"evt_ping_{n:04d}")
    return web.post(
        "/api/v1/webhooks/psp/sandbox/",
        data=body,
        content_type="application/json",
        headers=signed_headers(secret, event_id, body),
        REMOTE_ADDR=source,
    )


def test_a_flood_of_500_refusals_leaves_one_audit_event_with_the_count(web, secret, tenant, refusal_clock):
    # given an address that sends 500 badly signed webhooks within one minute
    before = AuditEvent.objects.count()
    with expect_no_change():
        statuses = [forged(web, secret, n).status_code for n in range(500)]
    # then the first 60 are refused as such and the rest throttled; nothing is audited yet
    assert statuses == [401] * 60 + [429] * 440
    assert RefusalTally.objects.get().count == 60
    assert AuditEvent.objects.count() == before
    # when the minute has closed and the tallies are flushed
    events = aggregates("webhook.refused")
    # then the whole flood is one audit event, for this casino, with the count and the first refusal's details
    assert AuditEvent.objects.count() == before + 1
    (event,) = events
    assert (event.tenant_id, event.actor_label, str(event.ip)) == (tenant.pk, "sandbox", ATTACKER)
    assert {k: event.data[k] for k in ("count", "refused", "throttled", "source")} == {
        "count": 500,
        "refused": 60,
        "throttled": 440,
        "source": ATTACKER,
    }
    first = event.data["first"]
    assert first["webhook_id"] == "evt_forged_0000" and first["provider"] == "sandbox"
    assert first["webhook_timestamp"].isdigit() and first["body_bytes"] > 0
    assert first["reason"] == "No matching signature found"
    assert not WebhookEvent.objects.exists()


def test_the_61st_refusal_from_an_address_is_429_while_another_address_is_served(
    web, secret, refusal_clock, django_assert_num_queries
):
    # given 60 refusals from one address in this minute
    assert {forged(web, secret, n).status_code for n in range(60)} == {401}
    # when it sends a 61st, then it is answered 429 from Redis alone, with Retry-After to the minute's end
    with expect_no_change(), django_assert_num_queries(0):
        response = forged(web, secret, 60)
    problem = assert_problem(response, 429, "RATE_LIMITED")
    assert response["Retry-After"] == "50" and problem["retry_after"] == 50
    # and even a valid delivery from it waits (the limit is checked before the signature)
    assert valid(web, secret, 1).status_code == 429
    # while another address is still served: its refusals are 401, its valid events 200
    assert forged(web, secret, 61, source=NEIGHBOUR).status_code == 401
    assert valid(web, secret, 2, source=NEIGHBOUR).status_code == 200
    # and when the next minute begins, the first address is served again
    refusal_clock.advance(60)
    assert valid(web, secret, 3).status_code == 200


def test_valid_deliveries_are_never_counted_as_refusals(web, secret, refusal_clock):
    # given 59 refusals from one address
    assert {forged(web, secret, n).status_code for n in range(59)} == {401}
    # when it then delivers 100 valid events, then each is accepted
    assert {valid(web, secret, n).status_code for n in range(100)} == {200}
    assert WebhookEvent.objects.count() == 100
    # and the limit still has room for exactly one more refusal
    assert forged(web, secret, 59).status_code == 401
    assert forged(web, secret, 60).status_code == 429
    # and the aggregate counts only the refusals and the throttled one
    (event,) = aggregates("webhook.refused")
    assert (event.data["count"], event.data["refused"], event.data["throttled"]) == (61, 60, 1)


def test_refusals_are_audited_per_address(web, secret, refusal_clock):
    for n in range(3):
        forged(web, secret, n)
        forged(web, secret, n, source=NEIGHBOUR)
    events = aggregates("webhook.refused")
    assert sorted((e.data["source"], e.data["count"]) for e in events) == [(ATTACKER, 3), (NEIGHBOUR, 3)]


def test_each_minute_has_its_own_event_and_its_own_limit(web, secret, refusal_clock):
    # given a full minute of refusals, then the next minute
    for n in range(61):
        forged(web, secret, n)
    refusal_clock.advance(60)
    # then the address may be refused again (not throttled) in the new minute
    assert forged(web, secret, 100).status_code == 401
    # and each minute is one event with its own count
    events = aggregates("webhook.refused")
    assert [e.data["count"] for e in events] == [61, 1]
    assert events[0].data["minute"] < events[1].data["minute"]


def test_a_refusal_at_a_provider_with_several_accounts_is_platform_level(web, secret, refusal_clock):
    # given a second casino at the same PSP: a bad signature names neither
    ProviderAccountFactory()
    forged(web, secret, 1)
    (event,) = aggregates("webhook.refused")
    assert event.tenant_id is None


def test_hostile_headers_on_a_refusal_are_stored_readably(web, secret, refusal_clock):
    # given a refused delivery whose timestamp header carries a NUL and a huge value
    event_id, body = envelope("payment.succeeded", {}, event_id="evt_nul")
    headers = {**signed_headers(secret, event_id, body), "webhook-timestamp": "1\x00" + "9" * 5000}
    # when it arrives, then it is a plain refusal (no 500), and the aggregate keeps a storable, cut copy
    assert_problem(post_event(web, headers, body), 401, "WEBHOOK_SIGNATURE_INVALID")
    (event,) = aggregates("webhook.refused")
    assert event.data["first"]["webhook_timestamp"].startswith("1\ufffd9")
    assert len(event.data["first"]["webhook_timestamp"]) == 40


def test_without_redis_nothing_is_throttled_and_the_audit_trail_is_still_one_event_a_minute(
    web, secret, refusal_clock, monkeypatch
):
    # given Redis cannot be reached (a client configured as the product's, at a closed port)
    from core import refusals
    from core.api.throttling import connect

    unreachable = connect("redis://127.0.0.1:1/0")
    monkeypatch.setattr(refusals, "redis_client", lambda: unreachable)
    # when 70 refusals arrive, then each is refused as such (fail open) and tallied in one row
    assert {forged(web, secret, n).status_code for n in range(70)} == {401}
    assert RefusalTally.objects.get().count == 70
    # and the minute is one event, whose throttled count is unknown
    (event,) = aggregates("webhook.refused")
    assert (event.data["count"], event.data["refused"], event.data["throttled"]) == (70, 70, None)


def test_signed_webhooks_still_flow_after_a_flood_from_elsewhere(web, secret, refusal_clock):
    for n in range(100):
        forged(web, secret, n)
    assert send_event(web, secret, "test.ping", {}).status_code == 200  # the test client's own 127.0.0.1
