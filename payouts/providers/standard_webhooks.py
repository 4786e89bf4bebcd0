"""Verifying Standard Webhooks signatures (https://www.standardwebhooks.com) on the raw body.

The `standardwebhooks` library checks the timestamp (5 minutes either way), computes
HMAC-SHA256 over "id.timestamp.body" and compares in constant time. Any failure,
including malformed headers the library does not anticipate, is InvalidWebhook.
"""

import json

from standardwebhooks import Webhook

from .base import InvalidWebhook, WebhookMessage


def verify(secrets: list[str], headers: dict, body: bytes) -> WebhookMessage:
    """Accept the message if any active secret verifies it (several during a rotation)."""
    lowered = {str(k).lower(): v for k, v in headers.items()}
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        if not lowered.get(name):
            raise InvalidWebhook(f"Missing {name} header")
    reason = "No active webhook secret"
    for secret in secrets:
        try:
            Webhook(secret).verify(body, lowered, json_parse=False)
        except Exception as error:  # noqa: BLE001 - malformed input raises all sorts; each is a refusal
            reason = str(error) or type(error).__name__
            continue
        return _message(lowered, body)
    raise InvalidWebhook(reason)


def _message(headers: dict, body: bytes) -> WebhookMessage:
    raw = body.decode()
    try:
        document = json.loads(raw)
    except ValueError:
        raise InvalidWebhook("Signed body is not JSON") from None
    if not isinstance(document, dict):
        raise InvalidWebhook("Signed body is not a JSON object")
    data = document.get("data") if isinstance(document.get("data"), dict) else {}
    return WebhookMessage(
        event_id=headers["webhook-id"],
        signed_at=float(headers["webhook-timestamp"]),
        event_type=str(document.get("type", "")),
        data=data,
        raw=raw,
    )
