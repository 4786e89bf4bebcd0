"""Hostile deliveries to POST /api/v1/webhooks/psp/<provider>/: oversized, chunked, unreadable but signed,
long or shared ids. Each is answered as problem+json with its reason, and writes nothing it should not."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from django.test import RequestFactory
from django.test.client import ClientHandler
from standardwebhooks import Webhook

from core.models import AuditEvent, RefusalTally
from payouts.models import WebhookEvent
from payouts.tests.factories import ProviderAccountFactory
from players.tests.factories import PlayerFactory
from wallet.models import Deposit
from wallet.tests.api.helpers import assert_problem
from wallet.tests.builders import deposit_in_state
from wallet.tests.invariants import expect_no_change

from .helpers import WEBHOOK_PATH, envelope, payment_data, post_event, signed_headers

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


def signed_bytes(secret: str, event_id: str, body: bytes) -> dict:
    """Standard Webhooks headers over raw bytes, computed from the specification (the library signs text only)."""
    at = int(time.time())
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{event_id}.{at}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(at),
        "webhook-signature": f"v1,{base64.b64encode(digest).decode()}",
    }


def test_signing_bytes_agrees_with_the_library_on_text(secret):
    headers = signed_bytes(secret, "evt_same", b'{"a":1}')
    at = int(headers["webhook-timestamp"])
    from datetime import UTC, datetime

    assert headers["webhook-signature"] == Webhook(secret).sign(
        "evt_same", datetime.fromtimestamp(at, tz=UTC), '{"a":1}'
    )


# -- signed, but not a JSON object we read: 400 with the reason ------------------------------------

UNREADABLE = {
    "an array": (b"[1, 2]", "a JSON array, not an object"),
    "a number": (b"42", "a JSON number, not an object"),
    "a string": (b'"payment.succeeded"', "a JSON string, not an object"),
    "invalid JSON": (b'{"type": "payment.succeeded",', "not valid JSON"),
    "not UTF-8": (b'{"type": "payment.succeeded", "data": {"reason": "caf\xe9"}}', "not UTF-8"),
    "a NUL character": (b'{"type": "payment.failed", "data": {"reason": "x\\u0000y"}}', "NUL character"),
    "a NUL in a key": (b'{"type": "payment.failed", "data": {"re\\u0000ason": "x"}}', "a key contains a NUL"),
    "a lone surrogate": (b'{"type": "payment.failed", "data": {"reason": "\\ud800"}}', "lone surrogate"),
    "nested 33 deep": (b'{"data": ' + b"[" * 32 + b"]" * 32 + b"}", "nested deeper than 32 levels"),
    "nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 32 levels"),
    "NaN": (b'{"type": "payment.succeeded", "data": {"amount": NaN}}', "NaN"),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_a_signed_body_we_cannot_read_is_refused_400_with_the_reason(web, secret, tenant, case):
    # given a correctly signed delivery whose body is not a JSON object we read
    body, reason = UNREADABLE[case]
    headers = signed_bytes(secret, "evt_unreadable", body)
    # when it arrives
    with expect_no_change(audit_actions=("webhook.malformed",)):
        response = web.post(WEBHOOK_PATH, data=body, content_type="application/json", headers=headers)
    # then the answer is 400 naming the real reason, not a signature refusal
    problem = assert_problem(response, 400, "VALIDATION_ERROR")
    assert reason in problem["detail"] and reason in problem["errors"]["body"][0], problem
    # and nothing is stored; the refusal is audited at once for the account that signed it
    assert not WebhookEvent.objects.exists() and not RefusalTally.objects.exists()
    event = AuditEvent.objects.get(action="webhook.malformed")
    assert (event.tenant_id, event.actor_label, event.data["webhook_id"]) == (tenant.pk, "sandbox", "evt_unreadable")
    assert reason in event.reason


def test_a_body_that_is_not_utf8_with_a_wrong_signature_is_still_a_signature_refusal(web, secret, refusal_clock):
    body = b'{"type": "payment.succeeded", "note": "caf\xe9"}'
    headers = {
        **signed_bytes(secret, "evt_latin1", body),
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    with expect_no_change():
        response = web.post(WEBHOOK_PATH, data=body, content_type="application/json", headers=headers)
    assert_problem(response, 401, "WEBHOOK_SIGNATURE_INVALID")
    assert RefusalTally.objects.get().count == 1


# -- webhook ids: whole, bounded, per account -----------------------------------------------------


def test_a_webhook_id_over_255_characters_is_refused_before_any_work(web, secret, player, django_assert_num_queries):
    # given a correctly signed event whose webhook-id is 256 characters long
    deposit = deposit_in_state("pending_provider", player=player)
    event_id, body = envelope("payment.succeeded", payment_data(deposit), event_id="evt_" + "x" * 252)
    # when it arrives, then it is refused 400 without a single query: no signature check, no audit
    with expect_no_change(), django_assert_num_queries(0):
        response = post_event(web, signed_headers(secret, event_id, body), body)
    problem = assert_problem(response, 400, "VALIDATION_ERROR")
    assert "255" in problem["errors"]["webhook-id"][0]
    assert Deposit.objects.get(pk=deposit.pk).state == "pending_provider"
    assert not WebhookEvent.objects.exists() and not RefusalTally.objects.exists()


def test_a_webhook_id_with_control_characters_is_refused_before_any_work(web, secret, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = post_event(web, {**signed_headers(secret, "evt_1", "{}"), "webhook-id": "evt\t1"}, "{}")
    assert_problem(response, 400, "VALIDATION_ERROR")


def test_a_webhook_id_of_255_characters_is_stored_whole(web, secret, player):
    deposit = deposit_in_state("pending_provider", player=player)
    event_id, body = envelope("payment.succeeded", payment_data(deposit), event_id="evt_" + "y" * 251)
    assert post_event(web, signed_headers(secret, event_id, body), body).status_code == 200
    assert WebhookEvent.objects.get().event_id == event_id


def test_two_ids_sharing_a_200_character_prefix_are_two_events(web, secret, player):
    # given two deposits, and two events whose ids differ only after the 200th character
    first, second = (deposit_in_state("pending_provider", player=player) for _ in range(2))
    prefix = "evt_" + "p" * 196
    for suffix, deposit in (("-a", first), ("-b", second)):
        event_id, body = envelope("payment.succeeded", payment_data(deposit), event_id=prefix + suffix)
        # when each arrives, then each is applied: the second is no duplicate of the first
        response = post_event(web, signed_headers(secret, event_id, body), body)
        assert response.json() == {"received": True, "duplicate": False, "outcome": "applied"}
    assert sorted(WebhookEvent.objects.values_list("event_id", flat=True)) == [prefix + "-a", prefix + "-b"]
    assert Deposit.objects.get(pk=first.pk).state == Deposit.objects.get(pk=second.pk).state == "completed"


def test_the_same_id_from_two_accounts_is_two_events(web, secret, player):
    # given two casinos at the same PSP, each with a deposit, and one event id both PSP accounts use
    other = ProviderAccountFactory()
    foreign = deposit_in_state("pending_provider", player=PlayerFactory(tenant=other.tenant))
    ours = deposit_in_state("pending_provider", player=player)
    answers = []
    for signing_secret, deposit in ((secret, ours), (other.webhook_secrets[0], foreign)):
        event_id, body = envelope("payment.succeeded", payment_data(deposit), event_id="evt_shared_0001")
        answers.append(post_event(web, signed_headers(signing_secret, event_id, body), body).json())
    # then both are applied, each to its own tenant's deposit
    assert [a["duplicate"] for a in answers] == [False, False] and [a["outcome"] for a in answers] == ["applied"] * 2
    assert sorted(WebhookEvent.objects.values_list("tenant_id", flat=True)) == sorted(
        [player.tenant_id, other.tenant_id]
    )
    # and a redelivery from one account is still a duplicate of its own
    event_id, body = envelope("payment.succeeded", payment_data(ours), event_id="evt_shared_0001")
    assert post_event(web, signed_headers(secret, event_id, body), body).json()["duplicate"] is True


# -- bodies over 1 MiB: 413 before the signature or anything else ---------------------------------


def test_a_body_over_1_mib_is_refused_413_unread(web, secret, player, django_assert_num_queries):
    # given a correctly signed event padded to one byte over 1 MiB
    deposit = deposit_in_state("pending_provider", player=player)
    event_id, body = envelope("payment.succeeded", payment_data(deposit, note=""))
    body = body.replace('"note":""', '"note":"' + "z" * (MIB + 1 - len(body)) + '"')
    assert len(body) == MIB + 1
    # when it arrives, then it is refused 413 with no query, no signature check, no refusal counted
    with django_assert_num_queries(0):
        response = post_event(web, signed_headers(secret, event_id, body), body)
    problem = assert_problem(response, 413, "PAYLOAD_TOO_LARGE")
    assert problem["max_bytes"] == MIB
    assert not WebhookEvent.objects.exists() and not RefusalTally.objects.exists()
    assert Deposit.objects.get(pk=deposit.pk).state == "pending_provider"


class Endless:
    """A request body stream that never ends (a chunked upload that goes on), counting what is read."""

    def __init__(self, chunk: bytes = b"[" * 4096):
        self.chunk, self.consumed = chunk, 0

    def read(self, size=-1):
        assert size is not None and size >= 0, "the body was read without a bound"
        data = (self.chunk * (size // len(self.chunk) + 1))[:size]
        self.consumed += len(data)
        return data

    readline = read


class Once:
    """A chunked body the server has de-chunked: its bytes, then the end."""

    def __init__(self, data: bytes):
        self.data, self.consumed = data, 0

    def read(self, size=-1):
        size = len(self.data) - self.consumed if size is None or size < 0 else size
        data = self.data[self.consumed : self.consumed + size]
        self.consumed += len(data)
        return data

    readline = read


def send_chunked(path: str, stream, headers: dict):
    """POST through Django's WSGI handler with no Content-Length, as gunicorn passes a chunked request."""
    environ = RequestFactory().post(path, data=b"", content_type="application/json", headers=headers).environ
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": stream, "wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"})
    return ClientHandler(enforce_csrf_checks=False)(environ)


def test_a_chunked_body_is_read_no_further_than_1_mib_plus_one_byte(secret):
    stream = Endless()
    response = send_chunked(WEBHOOK_PATH, stream, signed_headers(secret, "evt_endless", "[]"))
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")
    assert stream.consumed == MIB + 1
    assert not WebhookEvent.objects.exists() and not RefusalTally.objects.exists()


def test_a_chunked_body_under_the_limit_is_verified_and_applied(secret, player):
    deposit = deposit_in_state("pending_provider", player=player)
    event_id, body = envelope("payment.succeeded", payment_data(deposit))
    response = send_chunked(WEBHOOK_PATH, Once(body.encode()), signed_headers(secret, event_id, body))
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["outcome"] == "applied"
    assert WebhookEvent.objects.get().payload == body
