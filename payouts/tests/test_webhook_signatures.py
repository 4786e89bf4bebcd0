"""Standard Webhooks signatures on POST /api/v1/webhooks/psp/<provider>/: what verifies, what is refused."""

from datetime import UTC, datetime

import pytest
import standardwebhooks.webhooks
from standardwebhooks import Webhook

from core.models import RefusalTally
from core.tests.refusals import aggregates
from payouts.models import WebhookEvent
from payouts.providers import InvalidWebhook
from payouts.providers.standard_webhooks import verify
from payouts.sandbox import engine
from wallet.models import Deposit
from wallet.tests.api.helpers import assert_problem
from wallet.tests.builders import deposit_in_state
from wallet.tests.invariants import expect_no_change

from .helpers import envelope, minutes_from_now, payment_data, post_event, send_event, signed_headers

pytestmark = pytest.mark.django_db

# The test vector published with the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SPEC_HEADERS = {"webhook-id": SPEC_ID, "webhook-timestamp": str(SPEC_TIMESTAMP), "webhook-signature": SPEC_SIGNATURE}


@pytest.fixture
def clock_at_spec_time(monkeypatch):
    """The library reads the time through its module's `datetime`; freeze it for this test only."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(SPEC_TIMESTAMP, tz=tz or UTC)

    monkeypatch.setattr(standardwebhooks.webhooks, "datetime", Frozen)


def test_the_specification_test_vector_verifies(clock_at_spec_time):
    # given the spec's message, secret and signature, at the time it was signed
    # when it is verified, then it is accepted with its id and time
    message = verify([SPEC_SECRET], SPEC_HEADERS, SPEC_BODY)
    assert (message.event_id, message.signed_at, message.raw) == (SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY.decode())
    # and our signing produces the published signature
    assert Webhook(SPEC_SECRET).sign(SPEC_ID, datetime.fromtimestamp(SPEC_TIMESTAMP, tz=UTC), SPEC_BODY.decode()) == (
        SPEC_SIGNATURE
    )


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-signature": "v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
        {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJeK"},
        {"webhook-timestamp": str(SPEC_TIMESTAMP + 1)},
    ],
)
def test_the_specification_vector_with_one_header_changed_is_refused(clock_at_spec_time, change):
    with pytest.raises(InvalidWebhook):
        verify([SPEC_SECRET], {**SPEC_HEADERS, **change}, SPEC_BODY)


def test_the_specification_vector_is_stale_today():
    # five minutes' tolerance: a message signed in 2021 is refused now
    with pytest.raises(InvalidWebhook):
        verify([SPEC_SECRET], SPEC_HEADERS, SPEC_BODY)


def _without(headers: dict, name: str) -> dict:
    return {k: v for k, v in headers.items() if k != name}


def _resigned(secret: str, headers: dict, body: str, minutes: float = 0) -> dict:
    """A valid signature over the same delivery, made `minutes` from now with `secret`."""
    return signed_headers(secret, headers["webhook-id"], body, at=minutes_from_now(minutes))


WRONG_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

# Each defect turns a well-signed delivery (secret, headers, body) into what is sent instead.
REFUSALS = {
    "missing webhook-id": lambda s, h, b: (_without(h, "webhook-id"), b),
    "missing webhook-timestamp": lambda s, h, b: (_without(h, "webhook-timestamp"), b),
    "missing webhook-signature": lambda s, h, b: (_without(h, "webhook-signature"), b),
    "bad signature": lambda s, h, b: ({**h, "webhook-signature": WRONG_SIGNATURE}, b),
    "signed with another secret": lambda s, h, b: (_resigned(engine.new_secret(), h, b), b),
    "signature not base64": lambda s, h, b: ({**h, "webhook-signature": "v1,%%%not-base64%%%"}, b),
    "signature garbage": lambda s, h, b: ({**h, "webhook-signature": "garbage"}, b),
    "signature of an unknown version": lambda s, h, b: (
        {**h, "webhook-signature": h["webhook-signature"].replace("v1,", "v2,")},
        b,
    ),
    "timestamp 6 minutes old": lambda s, h, b: (_resigned(s, h, b, minutes=-6), b),
    "timestamp 6 minutes ahead": lambda s, h, b: (_resigned(s, h, b, minutes=+6), b),
    "timestamp not a number": lambda s, h, b: ({**h, "webhook-timestamp": "soon"}, b),
    "body altered after signing": lambda s, h, b: (h, b.replace('"amount":2500', '"amount":2501')),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_bad_signature_is_refused_and_changes_nothing(web, secret, tenant, player, case):
    # given a pending deposit and a payment.succeeded for it that would complete it
    deposit = deposit_in_state("pending_provider", player=player)
    event_id, body = envelope("payment.succeeded", payment_data(deposit))
    headers, body = REFUSALS[case](secret, signed_headers(secret, event_id, body), body)
    # when it arrives with the defect
    with expect_no_change():
        response = post_event(web, headers, body)
    # then it is refused as problem+json, nothing is stored, and the refusal is tallied, not yet audited
    assert_problem(response, 401, "WEBHOOK_SIGNATURE_INVALID")
    assert not WebhookEvent.objects.exists()
    assert Deposit.objects.get(pk=deposit.pk).state == "pending_provider"
    assert RefusalTally.objects.get().count == 1
    # and once its minute has closed it is one aggregate audit event for this tenant
    (refused,) = aggregates("webhook.refused")
    assert (refused.tenant_id, refused.actor_type, refused.actor_label) == (tenant.pk, "psp", "sandbox")
    assert (refused.data["count"], refused.data["throttled"], str(refused.ip)) == (1, 0, "127.0.0.1")
    # which names the delivery (header names are matched without regard to case, as HTTP says)
    first = refused.data["first"]
    assert first["webhook_id"] == headers.get("webhook-id", "")
    assert first["webhook_timestamp"] == headers.get("webhook-timestamp", "")
    assert first["body_bytes"] == len(body.encode())
    assert first["reason"] and first["reason"] in refused.reason


def test_every_active_secret_verifies_during_a_rotation(web, account, secret, player):
    # given the account is rotating: the old secret and a new one are both active
    new_secret = engine.new_secret()
    account.webhook_secrets = [secret, new_secret]
    account.save(update_fields=["webhook_secrets"])
    first = deposit_in_state("pending_provider", player=player)
    second = deposit_in_state("pending_provider", player=player)
    # when one event is signed with the old secret and another with the new one
    old = send_event(web, secret, "payment.succeeded", payment_data(first))
    new = send_event(web, new_secret, "payment.succeeded", payment_data(second))
    # then both are accepted and applied
    assert (old.status_code, new.status_code) == (200, 200), (old.content, new.content)
    assert outcomes_of(first, second) == ["applied", "applied"]
    # and once the old secret is removed, its signatures are refused
    account.webhook_secrets = [new_secret]
    account.save(update_fields=["webhook_secrets"])
    third = deposit_in_state("pending_provider", player=player)
    with expect_no_change():
        refused = send_event(web, secret, "payment.succeeded", payment_data(third))
    assert_problem(refused, 401, "WEBHOOK_SIGNATURE_INVALID")
    assert [event.data["count"] for event in aggregates("webhook.refused")] == [1]


def test_one_good_signature_among_several_is_enough(web, secret, player):
    # Standard Webhooks: the header may carry several space-separated signatures
    deposit = deposit_in_state("pending_provider", player=player)
    event_id, body = envelope("payment.succeeded", payment_data(deposit))
    headers = signed_headers(secret, event_id, body)
    good = headers["webhook-signature"]
    headers["webhook-signature"] = f"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= {good}"
    response = post_event(web, headers, body)
    assert response.status_code == 200, response.content
    assert Deposit.objects.get(pk=deposit.pk).state == "completed"


def test_an_unknown_provider_is_not_found(web, secret, player):
    # given a well-signed event sent to a provider name that is not configured
    deposit = deposit_in_state("pending_provider", player=player)
    event_id, body = envelope("payment.succeeded", payment_data(deposit))
    # when it is posted, then the answer is 404 problem+json and nothing changes
    with expect_no_change():
        response = post_event(web, signed_headers(secret, event_id, body), body, path="/api/v1/webhooks/psp/acme/")
    assert_problem(response, 404, "NOT_FOUND")
    assert not WebhookEvent.objects.exists()


def outcomes_of(*deposits) -> list[str]:
    return sorted(WebhookEvent.objects.filter(deposit__in=deposits).values_list("outcome", flat=True))
