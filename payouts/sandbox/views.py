"""The sandbox PSP's HTTP face: a merchant API, a hosted checkout page, steering, reports.

Served by `manage.py run_sandbox_psp` on its own port, like a real PSP would be on
its own host. Merchants authenticate with `Authorization: Bearer <api key>`.
"""

import csv
import io
import json
import time
from datetime import date
from functools import wraps

from csp.decorators import csp_exempt
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.money import format_amount

from . import engine
from .models import SandboxInstrument, SandboxMerchant, SandboxPayment, SandboxPayout

METHOD_CHOICES = SandboxInstrument.Kind.choices


def merchant_api(view):
    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        key = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        merchant = SandboxMerchant.objects.filter(api_key=key).first() if key else None
        if merchant is None:
            return JsonResponse({"error": "unauthorized"}, status=401)
        try:
            body = json.loads(request.body or b"{}") if request.method in ("POST", "PUT") else {}
        except ValueError:
            return JsonResponse({"error": "body must be JSON"}, status=400)
        if not isinstance(body, dict):
            return JsonResponse({"error": "body must be a JSON object"}, status=400)
        return view(request, merchant, body, *args, **kwargs)

    return wrapper


@merchant_api
@require_http_methods(["POST"])
def payments(request, merchant, body):
    try:
        payment = engine.create_payment(
            merchant,
            reference=str(body["reference"]),
            amount=int(body["amount"]),
            currency=str(body["currency"]),
            customer=str(body.get("customer") or ""),
        )
    except (KeyError, ValueError, TypeError):
        return JsonResponse({"error": "reference, amount and currency are required"}, status=400)
    base = request.build_absolute_uri("/")
    return JsonResponse(
        {**engine.payment_data(payment), "checkout_url": engine.checkout_url(payment, base)}, status=201
    )


@merchant_api
@require_http_methods(["POST"])
def payment_dispute(request, merchant, body, payment_id, step):
    """`POST v1/payments/<id>/chargeback`, `.../chargeback-reversal` and `.../second-chargeback`: the card
    holder disputes a paid payment, the merchant wins the dispute, the card holder's bank disputes again;
    a signed webhook follows. Another merchant's payment is 404."""
    try:
        payment = engine.dispute(payment_id, step, merchant=merchant, reason=str(body.get("reason") or "")[:200])
    except SandboxPayment.DoesNotExist:
        return JsonResponse({"error": "no such payment", "code": "payment_not_found"}, status=404)
    except engine.DisputeRefused as refusal:
        return JsonResponse({"error": str(refusal), "code": "dispute_refused"}, status=409)
    return JsonResponse(engine.payment_data(payment))


@merchant_api
@require_http_methods(["POST"])
def payouts(request, merchant, body):
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        return JsonResponse({"error": "Idempotency-Key header required"}, status=400)
    _delay(merchant)
    try:
        payout = engine.create_payout(
            merchant,
            idempotency_key=key,
            amount=int(body["amount"]),
            currency=str(body["currency"]),
            reference=str(body.get("reference", "")),
            destination=str(body.get("destination") or ""),
        )
    except (KeyError, ValueError, TypeError):
        return JsonResponse({"error": "amount and currency are required"}, status=400)
    except engine.SandboxUnavailable:
        return JsonResponse({"error": "temporarily unavailable"}, status=503)
    except engine.SandboxRefused as refusal:
        return JsonResponse({"error": str(refusal), "code": "destination_refused"}, status=422)
    # Accepted: the outcome follows by webhook (and can be fetched).
    return JsonResponse({**engine.payout_data(payout), "status": "pending"}, status=202)


@merchant_api
@require_http_methods(["GET"])
def payout_status(request, merchant, body, key):
    _delay(merchant)
    if merchant.payout_behavior == "unavailable":
        return JsonResponse({"error": "temporarily unavailable"}, status=503)
    payout = engine.fetch_payout(merchant, key)
    if payout is None:
        return JsonResponse({"error": "no payout with this idempotency key", "code": "payout_not_found"}, status=404)
    return JsonResponse(engine.payout_data(payout))


@merchant_api
@require_http_methods(["POST"])
def payout_return(request, merchant, body, key):
    """`POST v1/payouts/<key>/return`: the beneficiary's bank sends a paid payout back; a signed
    `payout.returned` follows. Another merchant's payout (or an unknown key) is 404."""
    try:
        payout = engine.return_payout(merchant, key, reason=str(body.get("reason") or "")[:200])
    except SandboxPayout.DoesNotExist:
        return JsonResponse({"error": "no payout with this idempotency key", "code": "payout_not_found"}, status=404)
    except engine.ReturnRefused as refusal:
        return JsonResponse({"error": str(refusal), "code": "return_refused"}, status=409)
    return JsonResponse(engine.payout_data(payout))


@merchant_api
@require_http_methods(["POST", "PUT"])
def behavior(request, merchant, body):
    try:
        engine.set_behavior(merchant, **body)
    except (ValueError, TypeError) as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse(
        {
            name: getattr(merchant, name)
            for name in ("payout_behavior", "fail_first", "fail_amount_at_or_above", "latency_ms", "webhook_url")
        }
    )


@merchant_api
@require_http_methods(["GET"])
def settlement(request, merchant, body, day):
    try:
        settled_on = date.fromisoformat(day)
    except ValueError:
        raise Http404 from None
    rows = engine.settlement_rows(merchant, settled_on)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["type", "psp_id", "reference", "amount", "currency", "status"])
    writer.writeheader()
    writer.writerows(rows)
    return HttpResponse(out.getvalue(), content_type="text/csv")


@csp_exempt()  # a stand-in PSP page with its own inline styles, not part of the console
@csrf_exempt
@require_http_methods(["GET", "POST"])
def checkout(request, payment_id):
    """The hosted checkout. Scripts may POST outcome=paid|failed as a form or as JSON, with
    `method` (card, bank_account, ewallet), optionally `fingerprint` and `payout_capable`, to pay
    with a payment method."""
    payment = get_object_or_404(SandboxPayment.objects.select_related("merchant", "instrument"), pk=payment_id)
    if request.method == "POST":
        fields = _fields(request)
        step = fields.get("dispute")
        if isinstance(step, str) and step in engine.DISPUTE_STEPS:  # the page's buttons for a paid payment
            try:
                payment = engine.dispute(payment.id, fields["dispute"])
            except engine.DisputeRefused as refusal:
                return _answer(request, payment, status=409, error=str(refusal))
            return _answer(request, payment)
        outcome = fields.get("outcome")
        if outcome not in ("paid", "failed"):
            return _answer(request, payment, status=400, error="outcome must be paid or failed")
        method = fields.get("method") or None
        if method is not None and method not in engine.METHOD_KINDS:
            return _answer(request, payment, status=400, error="method must be card, bank_account or ewallet")
        payment = engine.complete_checkout(
            payment.id,
            outcome,
            method=method,
            fingerprint=str(fields.get("fingerprint") or ""),
            payout_capable=_truthy(fields.get("payout_capable", True)),
        )
    return _answer(request, payment)


def _fields(request) -> dict:
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
    return request.POST.dict()


def _truthy(value) -> bool:
    """A JSON boolean, or a form's "true"/"false" ("0", "no", "off" and "" are false too)."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("false", "0", "no", "off", "")


def _answer(request, payment, *, status=200, error=""):
    wants_json = request.content_type == "application/json" or "application/json" in request.headers.get("Accept", "")
    if wants_json:
        body = {**engine.payment_data(payment), **({"error": error} if error else {})}
        return JsonResponse(body, status=status)
    context = {
        "payment": payment,
        "amount": format_amount(payment.amount, payment.currency),
        "methods": METHOD_CHOICES,
        "error": error,
        "return_url": _safe_return_url(request.GET.get("return_url", "")),
    }
    return render(request, "sandbox_psp/checkout.html", context, status=status)


def _safe_return_url(url: str) -> str:
    """Only plain http(s) links back to the merchant; never javascript: or data: URLs."""
    return url if url.startswith(("http://", "https://")) and len(url) < 2000 else ""


def _delay(merchant: SandboxMerchant) -> None:
    if merchant.latency_ms:
        time.sleep(merchant.latency_ms / 1000)
