"""Signing a call to the game wallet API: Standard Webhooks headers over the raw body.

The casino verifies `webhook-signature` (HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>"
with the provider account's `whsec_` secret) and refuses a timestamp more than five minutes
away. Each attempt is signed afresh with its own time; the body and the `webhook-id` stay
the same across retries of one call, so a retry is the same message.
"""

import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook


def new_message_id() -> str:
    return f"msg_{secrets.token_hex(12)}"


def signed_headers(secret: str, message_id: str, body: str, *, at: datetime | None = None) -> dict[str, str]:
    at = at or datetime.now(tz=UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
