"""The sandbox PSP as an HTTP service: payments, the hosted checkout, steering, settlement reports.

A live server serves the sandbox's own URLconf (as `run_sandbox_psp` does) and the
casino's ProviderAccount points its base_url at it, so the adapter speaks HTTP.
"""

import json
import uuid
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from payouts.providers import ProviderRejected, provider_for, standard_webhooks
from payouts.sandbox import engine
from payouts.sandbox.models import SandboxDelivery, SandboxMerchant, SandboxPayment

from .helpers import http

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def payment(sandbox_service, account):
    """A checkout of 25.00 EUR opened over HTTP for one of our deposit ids."""
    session = provider_for(account).create_payment(reference=str(uuid.uuid4()), amount=25_00, currency="EUR")
    return session


def _deliveries() -> list[SandboxDelivery]:
    return list(SandboxDelivery.objects.order_by("id"))


def test_create_payment_opens_one_checkout_per_reference(sandbox_service, account):
    # given our deposit id
    reference = str(uuid.uuid4())
    # when the adapter asks the PSP for a payment twice
    first = provider_for(account).create_payment(reference=reference, amount=25_00, currency="EUR")
    again = provider_for(account).create_payment(reference=reference, amount=25_00, currency="EUR")
    # then one payment exists, and its checkout lives on the PSP's host
    assert first == again
    assert first.checkout_url == f"{sandbox_service}/checkout/{first.provider_reference}/"
    stored = SandboxPayment.objects.get()
    assert (stored.id, stored.reference, stored.amount, stored.currency, stored.status) == (
        first.provider_reference,
        reference,
        25_00,
        "EUR",
        "open",
    )


def test_the_checkout_page_shows_the_amount_and_pay_and_fail_buttons(payment):
    status, body, headers = http("GET", payment.checkout_url)
    page = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "25.00 EUR" in page
    assert 'data-testid="pay"' in page and 'data-testid="fail"' in page
    assert _deliveries() == []


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_paying_at_the_checkout_queues_a_signed_payment_succeeded(payment, merchant, secret, as_json):
    # when the player presses Pay (a form post, or a script posting JSON)
    if as_json:
        status, body, _ = http("POST", payment.checkout_url, json_body={"outcome": "paid"})
        assert json.loads(body)["status"] == "paid"
    else:
        status, body, _ = http("POST", payment.checkout_url, form={"outcome": "paid"})
        assert 'data-testid="status"' in body.decode() and "Payment paid." in body.decode()
    assert status == 200
    # then the payment is paid and one webhook is queued for the merchant
    stored = SandboxPayment.objects.get(pk=payment.provider_reference)
    assert stored.status == "paid" and stored.completed_at is not None
    (delivery,) = _deliveries()
    assert (delivery.event_type, delivery.attempts, delivery.delivered_at) == ("payment.succeeded", 0, None)
    # and what it will send verifies with the casino's webhook secret and names our deposit
    message = standard_webhooks.verify([secret], engine.signed_headers(merchant, delivery), delivery.payload.encode())
    assert (message.event_id, message.event_type) == (delivery.event_id, "payment.succeeded")
    assert message.data == engine.payment_data(stored)
    # when the player presses Fail afterwards, then the finished payment stays paid and nothing more is sent
    status, _, _ = http("POST", payment.checkout_url, json_body={"outcome": "failed"})
    assert status == 200
    assert SandboxPayment.objects.get(pk=payment.provider_reference).status == "paid"
    assert len(_deliveries()) == 1


def test_failing_at_the_checkout_queues_payment_failed(payment):
    status, _, _ = http("POST", payment.checkout_url, form={"outcome": "failed"})
    assert status == 200
    assert SandboxPayment.objects.get(pk=payment.provider_reference).status == "failed"
    assert [d.event_type for d in _deliveries()] == ["payment.failed"]


@pytest.mark.parametrize("form", [{"outcome": "maybe"}, {}])
def test_an_unknown_checkout_outcome_is_refused(payment, form):
    status, _, _ = http("POST", payment.checkout_url, form=form)
    assert status == 400
    assert SandboxPayment.objects.get(pk=payment.provider_reference).status == "open"
    assert _deliveries() == []


def test_an_unknown_checkout_is_404(sandbox_service):
    assert http("GET", f"{sandbox_service}/checkout/pay_nope/")[0] == 404


def test_the_merchant_api_needs_the_merchants_key(sandbox_service, account):
    # given an account whose API key the PSP does not know
    account.api_key = "sk_test_wrong"
    # when the adapter asks for a payment, then the PSP's refusal is ProviderRejected (401), nothing opened
    with pytest.raises(ProviderRejected) as refusal:
        provider_for(account).create_payment(reference=str(uuid.uuid4()), amount=25_00, currency="EUR")
    assert refusal.value.status == 401
    assert not SandboxPayment.objects.exists()


def test_payouts_are_steered_over_http(sandbox_service, account):
    headers = {"Authorization": f"Bearer {account.api_key}"}
    url = f"{sandbox_service}/v1/behavior"
    # when the merchant steers payouts, then the PSP confirms the new behavior
    status, body, _ = http("POST", url, json_body={"payout_behavior": "fail_first", "fail_first": 2}, headers=headers)
    assert status == 200 and json.loads(body)["payout_behavior"] == "fail_first"
    merchant = SandboxMerchant.objects.get(merchant_id=account.merchant_id)
    assert (merchant.payout_behavior, merchant.fail_first, merchant.payouts_seen) == ("fail_first", 2, 0)
    # and nonsense is refused without changing anything
    for bad in ({"payout_behavior": "explode"}, {"colour": "red"}):
        assert http("POST", url, json_body=bad, headers=headers)[0] == 400
    assert SandboxMerchant.objects.get(pk=merchant.pk).payout_behavior == "fail_first"


def test_the_settlement_report_lists_what_was_settled_today(payment, sandbox_service, account):
    # given a paid payment and a paid payout
    http("POST", payment.checkout_url, form={"outcome": "paid"})
    provider_for(account).create_payout(idempotency_key="key-1", amount=10_00, currency="EUR", reference="WD-1")
    # when the merchant downloads today's settlement
    today = datetime.now(tz=UTC).date().isoformat()
    status, body, headers = http(
        "GET", f"{sandbox_service}/v1/settlements/{today}.csv", headers={"Authorization": f"Bearer {account.api_key}"}
    )
    # then both are in it
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    lines = body.decode().splitlines()
    assert lines[0] == "type,psp_id,reference,amount,currency,status"
    assert sorted(line.split(",")[0] + ":" + line.split(",")[5] for line in lines[1:]) == [
        "payment:paid",
        "payout:succeeded",
    ]


@pytest.mark.django_db  # no live server here, so no need to commit
def test_run_sandbox_psp_refuses_the_products_settings():
    # the PSP must run under its own URLconf (config.sandbox_settings), never the product's
    with pytest.raises(CommandError):
        call_command("run_sandbox_psp")
