"""What the sandbox PSP does: payments with a hosted checkout, payouts, signed webhooks.

Used two ways: in-process by `SandboxProvider` (tests), and behind the sandbox HTTP
service (`manage.py run_sandbox_psp`, started by `make run`). Outcomes can be steered
per merchant (see `Behavior`) so every path of the product can be reached.
"""

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from core.sql import lock_row, select_row
from core.unit_of_work import UnitOfWork

from .models import Behavior, SandboxDelivery, SandboxInstrument, SandboxMerchant, SandboxPayment, SandboxPayout

MAX_DELIVERY_ATTEMPTS = 10


class SandboxUnavailable(Exception):
    """The sandbox pretends to be down (behavior 'unavailable'): nothing was created."""


class SandboxRefused(Exception):
    """The sandbox refuses the request itself (an unknown destination): nothing was created."""


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def register_merchant(merchant_id: str, *, api_key: str, signing_secret: str, webhook_url: str) -> SandboxMerchant:
    merchant, _ = SandboxMerchant.objects.update_or_create(
        merchant_id=merchant_id,
        defaults={"api_key": api_key, "signing_secret": signing_secret, "webhook_url": webhook_url},
    )
    return merchant


def set_behavior(merchant: SandboxMerchant, **changes) -> SandboxMerchant:
    """Steer outcomes: payout_behavior, fail_first, fail_amount_at_or_above, latency_ms."""
    allowed = {"payout_behavior", "fail_first", "fail_amount_at_or_above", "latency_ms", "webhook_url"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"Unknown behavior settings: {', '.join(sorted(unknown))}")
    if "payout_behavior" in changes and changes["payout_behavior"] not in Behavior.values:
        raise ValueError(f"payout_behavior must be one of {', '.join(Behavior.values)}")
    for name, value in changes.items():
        setattr(merchant, name, value)
    if "fail_first" in changes:
        merchant.payouts_seen = 0  # "the first N" counts from now
    merchant.save()
    return merchant


def checkout_url(payment: SandboxPayment, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/checkout/{payment.id}/"


def create_payment(
    merchant: SandboxMerchant, *, reference: str, amount: int, currency: str, customer: str = ""
) -> SandboxPayment:
    """Open a payment for the merchant's `reference`; asking again returns the same one."""
    payment, _ = SandboxPayment.objects.get_or_create(
        merchant=merchant,
        reference=reference,
        defaults={"id": new_id("pay"), "amount": amount, "currency": currency, "customer": customer[:64]},
    )
    return payment


METHOD_KINDS = tuple(SandboxInstrument.Kind.values)
_LABELS = {"card": "Visa •••• {last4}", "bank_account": "Bank account •••• {last4}", "ewallet": "E-wallet •••• {last4}"}


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def instrument_for(
    merchant: SandboxMerchant, customer: str, kind: str, fingerprint: str = "", *, payout_capable: bool = True
) -> SandboxInstrument:
    """The customer's instrument of `kind` (and `fingerprint`), made the first time it pays.

    Without a fingerprint the customer has one instrument per kind; the same fingerprint for two
    customers is the same card (one fingerprint, a token each), as at a real PSP.
    """
    if kind not in METHOD_KINDS:
        raise ValueError(f"method must be one of {', '.join(METHOD_KINDS)}")
    fingerprint = (fingerprint or "").strip()[:64] or "fp_" + _digest(merchant.merchant_id, customer, kind)[:20]
    token = "pm_" + _digest(merchant.merchant_id, customer, kind, fingerprint)[:32]
    digits = "".join(c for c in fingerprint if c.isdigit())
    last4 = digits[-4:] if len(digits) >= 4 else f"{int(_digest(fingerprint)[:8], 16) % 10_000:04d}"
    instrument, _ = SandboxInstrument.objects.get_or_create(
        token=token,
        defaults={
            "merchant": merchant,
            "customer": customer,
            "kind": kind,
            "fingerprint": fingerprint,
            "label": _LABELS[kind].format(last4=last4),
            "payout_capable": payout_capable,
        },
    )
    return instrument


def complete_checkout(
    payment_id: str, outcome: str, *, method: str | None = None, fingerprint: str = "", payout_capable: bool = True
) -> SandboxPayment:
    """The player pressed pay (with a method: card, bank_account or ewallet) or fail.

    A paid payment's webhook describes the method (token, fingerprint, label, payout_capable);
    without one, it carries none (as before payment methods existed). A finished payment stays as
    it is.
    """
    if outcome not in ("paid", "failed"):
        raise ValueError("outcome must be 'paid' or 'failed'")
    if method is not None and method not in METHOD_KINDS:
        raise ValueError(f"method must be one of {', '.join(METHOD_KINDS)}")
    with transaction.atomic():
        payment = SandboxPayment.objects.select_for_update().select_related("merchant").get(pk=payment_id)
        if payment.status != SandboxPayment.Status.OPEN:
            return payment
        if outcome == "paid" and method is not None:
            customer = payment.customer or payment.reference
            payment.instrument = instrument_for(
                payment.merchant, customer, method, fingerprint, payout_capable=payout_capable
            )
        payment.status = outcome
        payment.completed_at = timezone.now()
        payment.save(update_fields=["status", "completed_at", "instrument"])
        event = "payment.succeeded" if outcome == "paid" else "payment.failed"
        enqueue_webhook(payment.merchant, event, payment_data(payment))
        return payment


class DisputeRefused(ValueError):
    """The payment is not in a state this dispute step applies to."""


DISPUTE_STEPS = {
    # step: (the dispute it needs, the dispute it leaves, the webhook it sends)
    "chargeback": ("", "charged_back", "payment.charged_back"),
    "chargeback-reversal": ("charged_back", "chargeback_reversed", "payment.chargeback_reversed"),
    # The card holder's bank disputes again after the merchant won (an arbitration chargeback).
    "second-chargeback": ("chargeback_reversed", "charged_back_again", "payment.second_chargeback"),
}
DISPUTE_STAMPS = {
    "chargeback": "charged_back_at",
    "chargeback-reversal": "chargeback_reversed_at",
    "second-chargeback": "charged_back_again_at",
}


def dispute(payment_id: str, step: str, *, merchant: SandboxMerchant | None = None, reason: str = "") -> SandboxPayment:
    """A card holder's chargeback of a paid payment, or its reversal; a signed webhook tells the merchant.

    Asking again for the step already taken changes nothing and sends nothing. With `merchant`, a
    payment of another merchant is not found (SandboxPayment.DoesNotExist).
    """
    needs, leaves, event = DISPUTE_STEPS[step]
    with transaction.atomic():
        payments = SandboxPayment.objects.select_for_update().select_related("merchant")
        if merchant is not None:
            payments = payments.filter(merchant=merchant)
        payment = payments.get(pk=payment_id)
        if payment.dispute == leaves:
            return payment
        if payment.status != SandboxPayment.Status.PAID or payment.dispute != needs:
            raise DisputeRefused(
                f"payment {payment.id} is {payment.status}{' and ' + payment.dispute if payment.dispute else ''}: "
                f"no {step}"
            )
        payment.dispute = leaves
        stamp = DISPUTE_STAMPS[step]
        setattr(payment, stamp, timezone.now())
        payment.save(update_fields=["dispute", stamp])
        default = "Dispute won by the merchant" if step == "chargeback-reversal" else "Cardholder disputed the payment"
        enqueue_webhook(payment.merchant, event, {**payment_data(payment), "reason": reason or default})
        return payment


def payment_data(payment: SandboxPayment) -> dict:
    data = {
        "payment_id": payment.id,
        "reference": payment.reference,
        "amount": payment.amount,
        "currency": payment.currency,
        "status": payment.status,
    }
    if payment.dispute:
        data["dispute"] = payment.dispute
    if payment.instrument_id:
        data["payment_method"] = instrument_data(payment.instrument)
    return data


def instrument_data(instrument: SandboxInstrument) -> dict:
    return {
        "token": instrument.token,
        "kind": instrument.kind,
        "fingerprint": instrument.fingerprint,
        "label": instrument.label,
        "payout_capable": instrument.payout_capable,
    }


def create_payout(
    merchant: SandboxMerchant | str,
    *,
    idempotency_key: str,
    amount: int,
    currency: str,
    reference: str = "",
    destination: str = "",
) -> SandboxPayout:
    """Take a payout request to `destination` (an instrument's token; empty: the merchant's default).
    The same key returns the first payout: it never pays twice.

    `merchant`: the merchant, or its merchant_id (the in-process adapter, which then reads
    the merchant once, under this lock; the payout's `merchant` is that row).
    The outcome is decided now by the merchant's behavior and reported by webhook;
    the answer to this call says only that the payout was accepted. A destination the
    sandbox never issued to this merchant, or one that cannot receive payouts, is refused
    (SandboxRefused) and nothing is created.

    The counter, the payout and its webhook are written in one statement (the unit of
    work): in-process, this PSP runs on the caller's CPU, where a real one would not.
    """
    with transaction.atomic():
        where = ("merchant_id = %s", [merchant]) if isinstance(merchant, str) else ("id = %s", [merchant.pk])
        merchant = lock_row(SandboxMerchant, *where)
        if merchant is None:
            raise SandboxMerchant.DoesNotExist("No such sandbox merchant.")
        same_key = "merchant_id = %s AND idempotency_key = %s"
        existing = select_row(SandboxPayout, same_key, [merchant.pk, idempotency_key])
        if existing is not None:
            existing.merchant = merchant
            return existing
        if merchant.payout_behavior == Behavior.UNAVAILABLE:
            raise SandboxUnavailable("The sandbox PSP is steered to be unavailable.")
        if destination:
            instrument = SandboxInstrument.objects.filter(merchant=merchant, token=destination).first()
            if instrument is None:
                raise SandboxRefused(f"Unknown destination {destination[:40]!r}")
            if not instrument.payout_capable:
                raise SandboxRefused(f"{instrument.label} cannot receive payouts")
        uow = UnitOfWork()
        merchant.payouts_seen += 1
        uow.update(merchant, ("payouts_seen",))
        status, reason = _decide(merchant, amount)
        payout = SandboxPayout(
            id=new_id("po"),
            merchant=merchant,
            idempotency_key=idempotency_key,
            reference=reference,
            destination=destination,
            amount=amount,
            currency=currency,
            status=status,
            reason=reason,
            completed_at=None if status == SandboxPayout.Status.PENDING else uow.now,
        )
        uow.insert(payout)
        if status != SandboxPayout.Status.PENDING:
            enqueue_webhook(merchant, f"payout.{status}", payout_data(payout), uow=uow)
        uow.flush()
        return payout


def _decide(merchant: SandboxMerchant, amount: int) -> tuple[str, str]:
    behavior = merchant.payout_behavior
    if behavior == Behavior.FAIL:
        return SandboxPayout.Status.FAILED, "Beneficiary bank rejected the transfer"
    if behavior == Behavior.FAIL_FIRST and merchant.payouts_seen <= merchant.fail_first:
        return SandboxPayout.Status.FAILED, f"Failure {merchant.payouts_seen} of the first {merchant.fail_first}"
    threshold = merchant.fail_amount_at_or_above
    if behavior == Behavior.FAIL_AMOUNT and threshold is not None and amount >= threshold:
        return SandboxPayout.Status.FAILED, "Amount above the beneficiary bank's limit"
    if behavior == Behavior.HOLD:
        return SandboxPayout.Status.PENDING, ""
    return SandboxPayout.Status.SUCCEEDED, ""


def fetch_payout(merchant: SandboxMerchant, idempotency_key: str) -> SandboxPayout | None:
    return SandboxPayout.objects.filter(merchant=merchant, idempotency_key=idempotency_key).first()


class ReturnRefused(ValueError):
    """Only a succeeded payout can come back from the bank."""


def return_payout(merchant: SandboxMerchant, idempotency_key: str, *, reason: str = "") -> SandboxPayout:
    """The beneficiary's bank sends a paid payout back; a signed `payout.returned` tells the merchant.

    Returning it again changes nothing and sends nothing. Unknown keys: SandboxPayout.DoesNotExist.
    """
    with transaction.atomic():
        payout = SandboxPayout.objects.select_for_update().get(merchant=merchant, idempotency_key=idempotency_key)
        if payout.returned_at is not None:
            return payout
        if payout.status != SandboxPayout.Status.SUCCEEDED:
            raise ReturnRefused(f"payout {payout.id} is {payout.status}: only a succeeded payout can be returned")
        payout.returned_at = timezone.now()
        payout.return_reason = (reason or "Account closed at the beneficiary bank")[:200]
        payout.save(update_fields=["returned_at", "return_reason"])
        enqueue_webhook(merchant, "payout.returned", {**payout_data(payout), "reason": payout.return_reason})
        return payout


def payout_data(payout: SandboxPayout) -> dict:
    return {
        "payout_id": payout.id,
        "idempotency_key": payout.idempotency_key,
        "reference": payout.reference,
        "destination": payout.destination,
        "amount": payout.amount,
        "currency": payout.currency,
        "status": payout.status,
        "reason": payout.reason,
        **({"returned_at": payout.returned_at.isoformat()} if payout.returned_at else {}),
    }


def enqueue_webhook(merchant: SandboxMerchant, event_type: str, data: dict, *, uow=None) -> SandboxDelivery:
    """Queue a signed event for the merchant; with `uow`, written when the caller flushes it."""
    event_id = new_id("evt")
    payload = json.dumps(
        {"id": event_id, "type": event_type, "created_at": timezone.now().isoformat(), "data": data},
        separators=(",", ":"),
    )
    delivery = SandboxDelivery(
        merchant=merchant, event_id=event_id, event_type=event_type, payload=payload, next_attempt_at=timezone.now()
    )
    if uow is None:
        delivery.save()
    else:
        uow.insert(delivery)
    return delivery


def signed_headers(merchant: SandboxMerchant, delivery: SandboxDelivery, at: datetime | None = None) -> dict:
    """Standard Webhooks headers; each delivery attempt is signed afresh with its own time."""
    at = at or datetime.now(tz=UTC)
    return {
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(merchant.signing_secret).sign(delivery.event_id, at, delivery.payload),
        "Content-Type": "application/json",
    }


def http_send(url: str, headers: dict, body: str, timeout: float = 5.0) -> int:
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def deliver_due(*, send=http_send, limit: int = 50, now: datetime | None = None) -> int:
    """Send every webhook whose time has come; returns how many were delivered (2xx).

    Failures are retried with exponential backoff (base x 2^attempt, capped at 10
    minutes) up to MAX_DELIVERY_ATTEMPTS, like a real PSP. Rows are claimed with
    SKIP LOCKED so several senders never deliver the same attempt twice at once.
    """
    now = now or timezone.now()
    delivered = 0
    with transaction.atomic():
        # Lock the deliveries only: a send may take seconds, and the merchant row is what
        # create_payout locks (the receiver's reaction to a webhook may well be a payout).
        due = list(
            SandboxDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("merchant")
            .filter(delivered_at__isnull=True, gave_up_at__isnull=True, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")[:limit]
        )
        for delivery in due:
            delivered += _attempt(delivery, send, now)
    return delivered


def _attempt(delivery: SandboxDelivery, send, now: datetime) -> int:
    delivery.attempts += 1
    merchant = delivery.merchant
    try:
        if not merchant.webhook_url:
            raise RuntimeError("merchant has no webhook URL")
        status = send(merchant.webhook_url, signed_headers(merchant, delivery), delivery.payload)
        delivery.last_status, delivery.last_error = status, ""
    except Exception as error:  # noqa: BLE001 - any failure to deliver is retried
        status = None
        delivery.last_status, delivery.last_error = None, str(error)[:500]
    if status is not None and 200 <= status < 300:
        delivery.delivered_at = now
    elif delivery.attempts >= MAX_DELIVERY_ATTEMPTS:
        delivery.gave_up_at = now
    else:
        base = getattr(settings, "SANDBOX_PSP_RETRY_BASE_SECONDS", 2.0)
        delivery.next_attempt_at = now + timedelta(seconds=min(base * 2 ** (delivery.attempts - 1), 600))
    delivery.save()
    return int(delivery.delivered_at is not None)


def settlement_rows(merchant: SandboxMerchant, day: date) -> list[dict]:
    """Everything the PSP settled for the merchant on `day` (UTC): paid payments and succeeded payouts, and
    what came back later: chargebacks and their reversals (reference: the payment's), returned payouts
    (reference: the payout's idempotency key). A disputed payment is still `paid` on the day it was paid."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    rows = []
    for payment in merchant.payments.filter(status="paid", completed_at__gte=start, completed_at__lt=end):
        rows.append(
            {
                "type": "payment",
                "psp_id": payment.id,
                "reference": payment.reference,
                "amount": payment.amount,
                "currency": payment.currency,
                "status": payment.status,
            }
        )
    for payout in merchant.payouts.filter(completed_at__gte=start, completed_at__lt=end):
        rows.append(
            {
                "type": "payout",
                "psp_id": payout.id,
                "reference": payout.idempotency_key,
                "amount": payout.amount,
                "currency": payout.currency,
                "status": payout.status,
            }
        )
    for kind, stamp, status in (
        ("chargeback", "charged_back_at", "charged_back"),
        ("chargeback_reversal", "chargeback_reversed_at", "reversed"),
        ("second_chargeback", "charged_back_again_at", "charged_back"),
    ):
        for payment in merchant.payments.filter(**{f"{stamp}__gte": start, f"{stamp}__lt": end}):
            rows.append(
                {
                    "type": kind,
                    "psp_id": payment.id,
                    "reference": payment.reference,
                    "amount": payment.amount,
                    "currency": payment.currency,
                    "status": status,
                }
            )
    for payout in merchant.payouts.filter(returned_at__gte=start, returned_at__lt=end):
        rows.append(
            {
                "type": "payout_return",
                "psp_id": payout.id,
                "reference": payout.idempotency_key,
                "amount": payout.amount,
                "currency": payout.currency,
                "status": "returned",
            }
        )
    return rows
