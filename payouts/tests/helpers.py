"""Building, signing and sending PSP events; reading what they did; waiting with a deadline.

Events are shaped exactly like the sandbox PSP's (payouts.sandbox.engine): an envelope
{"id", "type", "created_at", "data"} signed per Standard Webhooks with the merchant's
secret. Helpers that send go through the real endpoint (Django test client) or the
real intake function; none of them stubs the database, the broker or the cache.
"""

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

from django.test import Client
from standardwebhooks import Webhook

from core.models import AuditEvent
from payouts.models import WebhookEvent
from payouts.sandbox import engine
from payouts.sandbox.models import SandboxDelivery, SandboxMerchant
from wallet.models import JournalEntry, PayoutAttempt

WEBHOOK_PATH = "/api/v1/webhooks/psp/sandbox/"


# -- events -------------------------------------------------------------------------------


def payment_data(deposit, **overrides) -> dict:
    """What the PSP says about the payment of our `deposit` (reference = our deposit id)."""
    return {
        "payment_id": f"pay_{deposit.pk.hex[:24]}",
        "reference": str(deposit.pk),
        "amount": deposit.amount,
        "currency": deposit.currency,
        "status": "paid",
        **overrides,
    }


def payout_data(attempt: PayoutAttempt, **overrides) -> dict:
    """What the PSP says about the payout sent with `attempt`'s id as idempotency key."""
    withdrawal = attempt.withdrawal
    return {
        "payout_id": f"po_{attempt.pk.hex[:24]}",
        "idempotency_key": str(attempt.pk),
        "reference": withdrawal.reference,
        "amount": withdrawal.amount,
        "currency": withdrawal.currency,
        "status": "succeeded",
        "reason": "",
        **overrides,
    }


def envelope(event_type: str, data: dict, event_id: str | None = None) -> tuple[str, str]:
    """(webhook-id, raw body) of one event, serialized like the sandbox does."""
    event_id = event_id or engine.new_id("evt")
    body = json.dumps(
        {"id": event_id, "type": event_type, "created_at": datetime.now(tz=UTC).isoformat(), "data": data},
        separators=(",", ":"),
    )
    return event_id, body


def signed_headers(secret: str, event_id: str, body: str, *, at: datetime | None = None) -> dict:
    at = at or datetime.now(tz=UTC)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body),
    }


def minutes_from_now(minutes: float) -> datetime:
    return datetime.now(tz=UTC) + timedelta(minutes=minutes)


def post_event(client: Client, headers: dict, body: str | bytes, *, path: str = WEBHOOK_PATH):
    """POST one raw webhook to the product, as the PSP would."""
    return client.post(path, data=body, content_type="application/json", headers=headers)


def send_event(client: Client, secret: str, event_type: str, data: dict, *, event_id: str | None = None):
    """Sign and POST one event; returns the response."""
    event_id, body = envelope(event_type, data, event_id)
    return post_event(client, signed_headers(secret, event_id, body), body)


# -- the sandbox's outbox -----------------------------------------------------------------


def merchant_of(account) -> SandboxMerchant:
    return SandboxMerchant.objects.get(merchant_id=account.merchant_id)


def steer(account, **behavior) -> SandboxMerchant:
    """Steer the tenant's sandbox merchant (payout_behavior, fail_first, latency_ms ...)."""
    return engine.set_behavior(merchant_of(account), **behavior)


def through_test_client(client: Client):
    """A `send` for engine.deliver_due that posts to the product in this process."""

    def send(url: str, headers: dict, body: str) -> int:
        return post_event(client, headers, body, path=urllib.parse.urlsplit(url).path).status_code

    return send


def deliver_all(client: Client) -> int:
    """Deliver every due sandbox webhook through the test client; returns how many got a 2xx."""
    return engine.deliver_due(send=through_test_client(client))


def pending_deliveries() -> list[SandboxDelivery]:
    return list(SandboxDelivery.objects.filter(delivered_at__isnull=True, gave_up_at__isnull=True).order_by("id"))


# -- what happened ------------------------------------------------------------------------


def money_events(source) -> list[str]:
    """The ledger events of one deposit or withdrawal, oldest first."""
    field = "deposit" if source.TX_TYPE == "deposit" else "withdrawal"
    return list(JournalEntry.objects.filter(**{field: source}).order_by("id").values_list("event_type", flat=True))


def outcomes(**filters) -> list[str]:
    return sorted(WebhookEvent.objects.filter(**filters).values_list("outcome", flat=True))


def audit_actions(**filters) -> list[str]:
    return sorted(AuditEvent.objects.filter(**filters).values_list("action", flat=True))


def attempts_of(withdrawal) -> list[PayoutAttempt]:
    return list(PayoutAttempt.objects.filter(withdrawal_id=withdrawal.pk).order_by("number"))


# -- Celery ------------------------------------------------------------------------------


def run_task_once(task, *args, retries: int = 0):
    """One run of a bound task's body, as a worker runs its try number `retries` + 1; a Retry propagates.

    (Eager `apply()` would run Celery's retries back to back at once; this shows the one decision.)
    """
    task.push_request(
        id=f"test-{uuid.uuid4()}", args=list(args), kwargs={}, retries=retries, is_eager=True, called_directly=False
    )
    try:
        return task.run(*args)
    finally:
        task.pop_request()


# -- plain HTTP and waiting ---------------------------------------------------------------


def http(method: str, url: str, *, json_body=None, form: dict | None = None, headers: dict | None = None):
    """(status, body bytes, headers) of one real HTTP request; 4xx/5xx are returned, not raised."""
    data, all_headers = None, dict(headers or {})
    if json_body is not None:
        data, all_headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.05, what: str = "condition", details=None):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{details()}" if details else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}{extra}")
        time.sleep(interval)
