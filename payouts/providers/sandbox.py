"""Adapter for the sandbox PSP: over HTTP when the account has a base_url, else in-process.

In-process mode calls the sandbox engine directly (tests, single-process demos); it
keeps the same contract, including steered latency turning into timeouts.
"""

import http.client
import json
import time
import urllib.parse

from django.conf import settings

from . import keepalive, standard_webhooks
from .base import PaymentSession, PayoutStatus, ProviderRejected, ProviderTimeout, ProviderUnavailable, WebhookMessage

IN_PROCESS_CHECKOUT_BASE = "http://sandbox-psp.invalid"


class SandboxProvider:
    name = "sandbox"

    def __init__(self, account):
        self.account = account
        self.timeout = getattr(settings, "PSP_TIMEOUT_SECONDS", 5.0)

    # -- contract -------------------------------------------------------------------

    def create_payment(self, *, reference: str, amount: int, currency: str, customer: str = "") -> PaymentSession:
        if self.account.base_url:
            body = self._http(
                "POST",
                "/v1/payments",
                {"reference": reference, "amount": amount, "currency": currency, "customer": customer},
            )
            return PaymentSession(provider_reference=body["payment_id"], checkout_url=body["checkout_url"])
        from payouts.sandbox import engine

        payment = engine.create_payment(
            self._merchant(), reference=reference, amount=amount, currency=currency, customer=customer
        )
        return PaymentSession(payment.id, engine.checkout_url(payment, IN_PROCESS_CHECKOUT_BASE))

    def create_payout(
        self, *, idempotency_key: str, amount: int, currency: str, reference: str, destination: str = ""
    ) -> PayoutStatus:
        if self.account.base_url:
            body = self._http(
                "POST",
                "/v1/payouts",
                {"amount": amount, "currency": currency, "reference": reference, "destination": destination},
                headers={"Idempotency-Key": idempotency_key},
            )
            return PayoutStatus(body["status"], body.get("payout_id", ""), body.get("reason", ""))
        from payouts.sandbox import engine

        try:
            payout = engine.create_payout(
                self.account.merchant_id,
                idempotency_key=idempotency_key,
                amount=amount,
                currency=currency,
                reference=reference,
                destination=destination,
            )
        except engine.SandboxUnavailable as error:
            raise ProviderUnavailable(str(error)) from None
        except engine.SandboxRefused as error:
            raise ProviderRejected(str(error)) from None
        self._in_process_latency(payout.merchant)
        return PayoutStatus(PayoutStatus.PENDING, payout.id)

    def fetch_payout(self, *, idempotency_key: str) -> PayoutStatus:
        if self.account.base_url:
            try:
                body = self._http("GET", f"/v1/payouts/{urllib.parse.quote(idempotency_key)}")
            except ProviderRejected as error:
                # Only the PSP's own "no such payout" means it never got it; any other 404
                # (a wrong base_url, a proxy) is not evidence and must not lead to a resend.
                if getattr(error, "status", None) == 404:
                    if b"payout_not_found" in getattr(error, "body", b""):
                        return PayoutStatus(PayoutStatus.NOT_FOUND)
                    raise ProviderUnavailable(f"Payout status unavailable: {error}") from None
                raise
            return PayoutStatus(body["status"], body.get("payout_id", ""), body.get("reason", ""))
        from payouts.sandbox import engine

        merchant = self._merchant()
        if merchant.payout_behavior == "unavailable":
            raise ProviderUnavailable("The sandbox PSP is steered to be unavailable.")
        payout = engine.fetch_payout(merchant, idempotency_key)
        self._in_process_latency(merchant)
        if payout is None:
            return PayoutStatus(PayoutStatus.NOT_FOUND)
        return PayoutStatus(payout.status, payout.id, payout.reason)

    def verify_webhook(self, *, headers: dict, body: bytes) -> WebhookMessage:
        return standard_webhooks.verify(self.account.webhook_secrets, headers, body)

    # -- plumbing -------------------------------------------------------------------

    def _merchant(self):
        from payouts.sandbox.models import SandboxMerchant

        return SandboxMerchant.objects.get(merchant_id=self.account.merchant_id)

    def _in_process_latency(self, merchant) -> None:
        """Steered latency: longer than our timeout means we never hear the answer."""
        if merchant.latency_ms / 1000 >= self.timeout:
            raise ProviderTimeout(f"No answer within {self.timeout} s")
        if merchant.latency_ms:
            time.sleep(merchant.latency_ms / 1000)

    def _http(self, method: str, path: str, payload: dict | None = None, headers: dict | None = None) -> dict:
        """One call over this process's kept-alive connection to the PSP (keepalive.py)."""
        data = None if payload is None else json.dumps(payload).encode()
        headers = {
            "Authorization": f"Bearer {self.account.api_key}",
            "Content-Type": "application/json",
            **(headers or {}),
        }
        try:
            response = keepalive.request(
                method, self.account.base_url.rstrip("/") + path, body=data, headers=headers, timeout=self.timeout
            )
        except TimeoutError as error:
            raise ProviderTimeout(f"No answer within {self.timeout} s") from error
        except (http.client.HTTPException, ConnectionResetError) as error:
            # Sent, and no readable answer (the connection closed, a garbled reply): the
            # outcome is as unknown as after a time-out.
            raise ProviderTimeout(f"No readable answer from the PSP: {error!r}") from error
        except OSError as error:  # refused, unreachable: nothing was sent
            raise ProviderUnavailable(f"PSP unreachable: {error}") from error
        if response.status >= 500 or response.status == 429 or response.status < 200 or 300 <= response.status < 400:
            # A redirect too: a PSP API answers where it is asked (a wrong base_url, a proxy)
            raise ProviderUnavailable(f"PSP answered {response.status}")
        if response.status >= 400:
            body = response.body[:500]
            rejected = ProviderRejected(f"PSP refused with {response.status}: {body[:200]!r}")
            rejected.status, rejected.body = response.status, body
            raise rejected
        return json.loads(response.body or b"{}")
