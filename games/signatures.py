"""Who is calling: the provider account whose active secret signed the call (Standard Webhooks).

The same scheme as the PSP webhooks (payouts/providers/standard_webhooks.py, whose check
this uses): headers `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64
HMAC-SHA256 of "id.timestamp.body">` (several space-separated), 5 minutes tolerance either
way, any active secret of the account named in the URL. An unknown or deactivated account,
missing headers, a bad or stale signature, or another account's secret: 401
SIGNATURE_INVALID, nothing read or done.

Refusals are counted per source address and audited in aggregate (core.refusals): past
REFUSALS_PER_MINUTE a minute from one address, 429 RATE_LIMITED and no database write. A
call that verifies is never counted nor throttled: the good path touches neither Redis nor
PostgreSQL here (the account's secrets come from games.providers' cache).
"""

from core import refusals
from games.answers import provider_actor
from games.errors import SignatureInvalid
from games.providers import ProviderKeys, is_slug, keys_for
from payouts.providers import InvalidWebhook
from payouts.providers.standard_webhooks import verify_signature

REFUSED = "game.signature_refused"  # the audit action of refused calls, and their rate limit's name
_HEADERS = {"webhook-id": "HTTP_WEBHOOK_ID", "webhook-timestamp": "HTTP_WEBHOOK_TIMESTAMP"}
_HEADERS["webhook-signature"] = "HTTP_WEBHOOK_SIGNATURE"


class CallThrottled(Exception):
    """Too many refused calls from this address this minute: 429 RATE_LIMITED."""

    def __init__(self, retry_after: int):
        super().__init__(f"Too many refused calls from this address; retry in {retry_after} s.")
        self.retry_after = retry_after


def authenticate(slug: str, meta: dict, body: bytes, source: str | None) -> ProviderKeys:
    """The account that signed this call, or SignatureInvalid (counted) or CallThrottled."""
    headers = {name: meta.get(key, "") for name, key in _HEADERS.items()}
    named = is_slug(slug)  # anything else names no account (and may hold a NUL, which PostgreSQL refuses)
    keys = keys_for(slug) if named else None
    shown = slug if named else ascii(slug[:60])
    if keys is None:
        reason = "No active game provider account with this name"
    elif not keys.secrets:
        reason = "The game provider account has no active secret"
    else:
        try:
            verify_signature(list(keys.secrets), headers, body)
        except InvalidWebhook as error:
            reason = str(error)
        else:
            return keys
    refusal = refusals.count(REFUSED, source)
    if refusal.past_limit:
        raise CallThrottled(refusal.retry_after)
    refusals.tally(
        refusal,
        tenant_id=keys.tenant_id if keys else None,
        actor=provider_actor(shown),
        reason=reason,
        details={
            "provider": shown,
            "webhook_id": str(headers["webhook-id"])[:255],
            "webhook_timestamp": str(headers["webhook-timestamp"])[:40],
            "body_bytes": len(body),
        },
    )
    raise SignatureInvalid(f"Call refused: {reason}.")
