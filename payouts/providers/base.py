"""The contract between the product and a payment service provider (PSP).

Business logic talks to `PaymentProvider` only; `payouts.providers.provider_for()`
returns the tenant's implementation. An adapter translates this contract to one PSP's
API and nothing else: no state of ours changes inside an adapter.
"""

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class ProviderError(Exception):
    """The PSP could not be asked. Nothing is known to have happened there."""


class ProviderUnavailable(ProviderError):
    """Transient: connection refused, 5xx, rate limited. Safe to retry with the same key."""


class ProviderTimeout(ProviderError):
    """We sent the request but got no answer: the outcome is unknown until we ask."""


class ProviderRejected(ProviderError):
    """The PSP answered and refused the request (bad account, unsupported currency...)."""


class InvalidWebhook(Exception):
    """Unsigned, badly signed, or outside the timestamp tolerance."""


class MalformedWebhook(Exception):
    """Correctly signed, but the body is not a JSON object we read (not UTF-8, not JSON, an array,
    hostile JSON): the sender is known, so the answer is 400 with this reason, not 401."""


@dataclass(frozen=True)
class PaymentSession:
    """A payment the player completes at the PSP's hosted checkout."""

    provider_reference: str
    checkout_url: str


@dataclass(frozen=True)
class PayoutStatus:
    """What the PSP says about a payout we asked for with our idempotency key."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_FOUND = "not_found"  # the PSP never received it: safe to send again with the same key

    status: str
    provider_reference: str = ""
    reason: str = ""


@dataclass(frozen=True)
class WebhookMessage:
    """A verified webhook: its id, when it was signed, its type and its data."""

    event_id: str
    signed_at: float
    event_type: str
    data: dict = field(default_factory=dict)
    raw: str = ""


@runtime_checkable
class PaymentProvider(Protocol):
    name: str

    def create_payment(self, *, reference: str, amount: int, currency: str, customer: str = "") -> PaymentSession:
        """Open a hosted checkout for our deposit `reference` (idempotent on it) for our player `customer`.

        The payment's outcome (webhook `payment.succeeded`) describes what the player paid with:
        `payment_method` {token, kind, fingerprint, label, payout_capable}."""

    def create_payout(
        self, *, idempotency_key: str, amount: int, currency: str, reference: str, destination: str = ""
    ) -> PayoutStatus:
        """Ask the PSP to pay out to `destination` (a payment method's PSP token; empty: the PSP's
        default for the merchant); the same key never pays twice. A destination the PSP does not
        know, or cannot pay out to, is ProviderRejected."""

    def fetch_payout(self, *, idempotency_key: str) -> PayoutStatus:
        """The PSP's view of the payout sent with this key."""

    def verify_webhook(self, *, headers: dict, body: bytes) -> WebhookMessage:
        """Check the signature on the raw body; raise InvalidWebhook if it does not hold, and
        MalformedWebhook if it holds over a body that is not a JSON object."""
