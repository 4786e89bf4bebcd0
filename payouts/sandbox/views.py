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
from .models import SandboxMerchant, SandboxPayment


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
        return view(request, merchant, body, *args, **kwargs)

    return wrapper


@merchant_api
@require_http_methods(["POST"])
def payments(request, merchant, body):
    try:
        payment = engine.create_payment(
            merchant, reference=str(body["reference"]), amount=int(body["amount"]), currency=str(body["currency"])
        )
    except (KeyError, ValueError, TypeError):
        return JsonResponse({"error": "reference, amount and currency are required"}, status=400)
    base = request.build_absolute_uri("/")
    return JsonResponse(
        {**engine.payment_data(payment), "checkout_url": engine.checkout_url(payment, base)}, status=201
    )


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
        )
    except (KeyError, ValueError, TypeError):
        return JsonResponse({"error": "amount and currency are required"}, status=400)
    except engine.SandboxUnavailable:
        return JsonResponse({"error": "temporarily unavailable"}, status=503)
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
    """The hosted checkout. Scripts may POST outcome=paid|failed as a form or as JSON."""
    payment = get_object_or_404(SandboxPayment.objects.select_related("merchant"), pk=payment_id)
    if request.method == "POST":
        outcome = _outcome(request)
        if outcome not in ("paid", "failed"):
            return _answer(request, payment, status=400, error="outcome must be paid or failed")
        payment = engine.complete_checkout(payment.id, outcome)
    return _answer(request, payment)


def _outcome(request) -> str | None:
    if request.content_type == "application/json":
        try:
            return json.loads(request.body or b"{}").get("outcome")
        except (ValueError, AttributeError):
            return None
    return request.POST.get("outcome")


def _answer(request, payment, *, status=200, error=""):
    wants_json = request.content_type == "application/json" or "application/json" in request.headers.get("Accept", "")
    if wants_json:
        body = {**engine.payment_data(payment), **({"error": error} if error else {})}
        return JsonResponse(body, status=status)
    context = {
        "payment": payment,
        "amount": format_amount(payment.amount, payment.currency),
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
