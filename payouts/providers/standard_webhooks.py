"""Verifying Standard Webhooks signatures (https://www.standardwebhooks.com) on the raw body.

The `standardwebhooks` library checks the timestamp (5 minutes either way), computes
HMAC-SHA256 over "id.timestamp.body" and compares in constant time. Any failure,
including malformed headers the library does not anticipate, is InvalidWebhook. A body
that verifies but is not a JSON object we read is MalformedWebhook: the signature holds,
so the reason is told to the sender instead of a 401.

The library verifies text only (it decodes the body as UTF-8 first), while the signature
is over bytes; a body that is not UTF-8 is verified here by the same rules, so that a
signed one is answered "not UTF-8" rather than "bad signature".
"""

import base64
import binascii
import hashlib
import hmac
import math
import time

from standardwebhooks import Webhook

from core import strict_json

from .base import InvalidWebhook, MalformedWebhook, WebhookMessage


def verify(secrets: list[str], headers: dict, body: bytes) -> WebhookMessage:
    """Accept the message if any active secret verifies it (several during a rotation)."""
    lowered = {str(k).lower(): v for k, v in headers.items()}
    verify_signature(secrets, lowered, body)
    if not _is_utf8(body):
        raise MalformedWebhook("The signed body is refused: the body is not UTF-8")
    return _message(lowered, body)


def verify_signature(secrets: list[str], headers: dict, body: bytes) -> None:
    """The signature alone: InvalidWebhook unless an active secret signed `body` within the tolerance.

    `headers` has lower-case names. Shared with the game wallet's provider calls, which
    are signed the same way (games/signatures.py) and read their bodies themselves.
    """
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        if not headers.get(name):
            raise InvalidWebhook(f"Missing {name} header")
    if not _is_utf8(body):
        _verify_bytes(secrets, headers, body)
        return
    reason = "No active webhook secret"
    for secret in secrets:
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
        except Exception as error:  # noqa: BLE001 - malformed input raises all sorts; each is a refusal
            reason = str(error) or type(error).__name__
            continue
        return
    raise InvalidWebhook(reason)


TOLERANCE_SECONDS = 5 * 60  # the library's, both ways


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _verify_bytes(secrets: list[str], headers: dict, body: bytes) -> None:
    """The library's checks over the raw bytes: timestamp within tolerance, any v1 signature
    equal (constant time) to HMAC-SHA256 of "id.timestamp.body" under any active secret."""
    try:
        timestamp = math.floor(float(headers["webhook-timestamp"]))
    except (ValueError, OverflowError):
        raise InvalidWebhook("Invalid Signature Headers") from None
    if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
        raise InvalidWebhook("Message timestamp outside the tolerance")
    signed = f"{headers['webhook-id']}.{timestamp}.".encode() + body
    offered = [_signature_bytes(part) for part in str(headers["webhook-signature"]).split(" ")]
    for secret in secrets:
        try:
            key = base64.b64decode(secret.removeprefix("whsec_") + "==")  # as the library reads secrets
        except (binascii.Error, ValueError):
            continue
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        if any(candidate is not None and hmac.compare_digest(expected, candidate) for candidate in offered):
            return
    raise InvalidWebhook("No matching signature found")


def _signature_bytes(versioned: str) -> bytes | None:
    version, _, signature = versioned.partition(",")
    if version != "v1":
        return None
    try:
        return base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return None


def _message(headers: dict, body: bytes) -> WebhookMessage:
    try:
        document = strict_json.loads(body)
    except strict_json.UnsafeJSON as error:
        raise MalformedWebhook(f"The signed body is refused: {error}") from None
    if not isinstance(document, dict):
        raise MalformedWebhook(f"The signed body is a JSON {_json_type(document)}, not an object")
    raw = body.decode()  # strict_json has read it as UTF-8
    data = document.get("data") if isinstance(document.get("data"), dict) else {}
    return WebhookMessage(
        event_id=headers["webhook-id"],
        signed_at=float(headers["webhook-timestamp"]),
        event_type=str(document.get("type", "")),
        data=data,
        raw=raw,
    )


def _json_type(value) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool) or value is None:
        return "literal"
    return "number"
