"""POST /api/v1/deposits/ with the PSP: a checkout is opened; a PSP that cannot be reached is a
503 whose retry with the same Idempotency-Key resumes the same deposit."""

import pytest

from core.models import IdempotencyRecord
from payouts.sandbox import engine
from payouts.sandbox.models import SandboxPayment
from wallet.models import Deposit
from wallet.tests.api.helpers import assert_problem, balances, client_for, deposit_request, new_key
from wallet.tests.factories import fund
from wallet.tests.invariants import assert_invariants

from .helpers import http, money_events

LIVE_WEBHOOKS = "/api/v1/webhooks/psp/sandbox/"


@pytest.mark.django_db
def test_a_deposit_opens_a_checkout_at_the_psp(player, clean_throttle):
    # given a casino at the (in-process) sandbox PSP
    # when the player starts a deposit of 25.00 EUR
    response = deposit_request(client_for(player), "25.00", "EUR")
    # then it is pending at the PSP, which opened exactly one payment for it, and nothing is credited yet
    assert response.status_code == 201, response.content
    body = response.json()
    payment = SandboxPayment.objects.get()
    assert (payment.reference, payment.amount, payment.currency, payment.status) == (body["id"], 25_00, "EUR", "open")
    assert (body["state"], body["provider_reference"]) == ("pending_provider", payment.id)
    assert body["checkout_url"].endswith(f"/checkout/{payment.id}/")
    assert balances(player) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_a_psp_outage_is_503_and_the_same_key_resumes_the_same_deposit(
    player, account, merchant, live_server, settings, clean_throttle
):
    # given a player with 10.00 EUR and a PSP that cannot be reached (nothing listens on port 9)
    settings.ROOT_URLCONF = "payouts.tests.urls_product_and_psp"
    fund(player, 10_00)
    account.base_url = "http://127.0.0.1:9"
    account.save()
    api, key = client_for(player), new_key()
    # when the player starts a deposit
    down = deposit_request(api, "25.00", "EUR", key=key)
    # then the answer is 503 PROVIDER_UNAVAILABLE naming the deposit, which waits in `created`
    problem = assert_problem(down, 503, "PROVIDER_UNAVAILABLE")
    deposit = Deposit.objects.get(pk=problem["deposit_id"])
    assert (deposit.state, deposit.amount, deposit.checkout_url) == ("created", 25_00, "")
    assert "Idempotent-Replayed" not in down
    assert (balances(player), SandboxPayment.objects.exists()) == ((10_00, 0), False)
    # when the player retries with the same key while the PSP is still down, then the same deposit is named
    again = assert_problem(deposit_request(api, "25.00", "EUR", key=key), 503, "PROVIDER_UNAVAILABLE")
    assert again["deposit_id"] == str(deposit.pk)
    # when the PSP is reachable again (the sandbox service on the live server) and the player retries
    account.base_url = live_server.url
    account.save()
    resumed = deposit_request(api, "25.00", "EUR", key=key)
    # then the same deposit goes to the PSP: 201 with a checkout on the PSP's host; still one deposit
    assert resumed.status_code == 201, resumed.content
    body = resumed.json()
    assert body["id"] == str(deposit.pk) and body["state"] == "pending_provider"
    assert body["checkout_url"].startswith(f"{live_server.url}/checkout/pay_")
    assert Deposit.objects.filter(player=player).count() == 2  # the funding deposit and this one
    assert SandboxPayment.objects.get().reference == str(deposit.pk)
    # and a further retry replays the stored answer without doing anything
    replay = deposit_request(api, "25.00", "EUR", key=key)
    assert (replay.status_code, replay["Idempotent-Replayed"], replay.content) == (201, "true", resumed.content)
    assert IdempotencyRecord.objects.get(key=key).status == "completed"
    # when the player pays at the PSP's checkout page and the PSP's webhook reaches the product over HTTP
    merchant.webhook_url = live_server.url + LIVE_WEBHOOKS
    merchant.save()
    assert http("POST", body["checkout_url"], form={"outcome": "paid"})[0] == 200
    assert engine.deliver_due() == 1
    # then the deposit is completed and credited once
    assert Deposit.objects.get(pk=deposit.pk).state == "completed"
    assert money_events(deposit) == ["deposit_completed"]
    assert balances(player) == (35_00, 0)
    assert_invariants()
