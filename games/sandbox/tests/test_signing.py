"""The game's calls are signed per Standard Webhooks with the provider account's secret."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from games.sandbox.signing import signed_headers
from payouts.providers import standard_webhooks

from .conftest import new_secret

BODY = json.dumps(
    {"session_token": "gs_x", "transaction_id": "bet_1", "round_id": "rnd_1", "amount": "1.00", "currency": "EUR"},
    separators=(",", ":"),
)


def test_the_headers_verify_with_the_secret_over_the_raw_body():
    secret = new_secret()
    headers = signed_headers(secret, "bet_1", BODY)
    assert headers["webhook-id"] == "bet_1"
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    # and with the product's own verifier, which accepts any of an account's secrets (rotation)
    message = standard_webhooks.verify([new_secret(), secret], headers, BODY.encode())
    assert message.event_id == "bet_1"


@pytest.mark.parametrize(
    "spoil",
    [
        lambda h, b, s: (h, b.replace("1.00", "9.00"), s),  # another body
        lambda h, b, s: ({**h, "webhook-id": "bet_2"}, b, s),  # another message id
        lambda h, b, s: (h, b, new_secret()),  # another provider account's secret
        lambda h, b, s: ({k: v for k, v in h.items() if k != "webhook-signature"}, b, s),  # unsigned
    ],
    ids=["body", "message-id", "other-secret", "missing"],
)
def test_a_changed_call_does_not_verify(spoil):
    secret = new_secret()
    headers, body, verifying_secret = spoil(signed_headers(secret, "bet_1", BODY), BODY, secret)
    with pytest.raises(WebhookVerificationError):
        Webhook(verifying_secret).verify(body, headers)


def test_a_stale_signature_does_not_verify():
    secret = new_secret()
    headers = signed_headers(secret, "bet_1", BODY, at=datetime.now(tz=UTC) - timedelta(minutes=6))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, headers)


def test_each_attempt_is_signed_afresh_with_the_same_message_id():
    secret = new_secret()
    first = signed_headers(secret, "bet_1", BODY, at=datetime.now(tz=UTC) - timedelta(seconds=30))
    retry = signed_headers(secret, "bet_1", BODY)
    assert first["webhook-id"] == retry["webhook-id"]
    assert first["webhook-timestamp"] != retry["webhook-timestamp"]
    assert first["webhook-signature"] != retry["webhook-signature"]
    assert Webhook(secret).verify(BODY, retry)
