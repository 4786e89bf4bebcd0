"""The adapter's HTTP mode against the sandbox service: payouts, errors, time-outs, webhook retries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from payouts.models import WebhookEvent
from payouts.providers import PayoutStatus, ProviderRejected, ProviderTimeout, ProviderUnavailable, provider_for
from payouts.sandbox import engine
from payouts.sandbox.models import SandboxDelivery, SandboxPayout
from payouts.webhooks import receive
from wallet.models import Withdrawal
from wallet.tests.api.helpers import balances
from wallet.tests.builders import AMOUNT, withdrawal_in_state

from .helpers import attempts_of, http, steer, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _payout(account, key: str = "attempt-1", amount: int = 10_00):
    return provider_for(account).create_payout(idempotency_key=key, amount=amount, currency="EUR", reference="WD-1")


def test_the_payouts_endpoint_requires_an_idempotency_key(sandbox_service, account):
    status, body, _ = http(
        "POST",
        f"{sandbox_service}/v1/payouts",
        json_body={"amount": 10_00, "currency": "EUR"},
        headers={"Authorization": f"Bearer {account.api_key}"},
    )
    assert (status, b"Idempotency-Key" in body) == (400, True)
    assert not SandboxPayout.objects.exists()


def test_the_same_key_returns_the_same_payout(sandbox_service, account):
    # when the adapter sends one payout twice with the same key, and another with a new key
    first, again, other = _payout(account), _payout(account), _payout(account, key="attempt-2")
    # then the PSP holds two payouts: the repeat returned the first
    assert (first.status, first.provider_reference) == (PayoutStatus.PENDING, again.provider_reference)
    assert other.provider_reference != first.provider_reference
    assert sorted(SandboxPayout.objects.values_list("idempotency_key", flat=True)) == ["attempt-1", "attempt-2"]
    # and fetching by key tells its outcome, decided by the steering (succeed by default)
    known = provider_for(account).fetch_payout(idempotency_key="attempt-1")
    assert (known.status, known.provider_reference) == ("succeeded", first.provider_reference)


def test_fetching_an_unknown_key_is_not_found(sandbox_service, account):
    assert provider_for(account).fetch_payout(idempotency_key="never-sent").status == PayoutStatus.NOT_FOUND


def test_an_unavailable_psp_is_provider_unavailable_and_creates_nothing(sandbox_service, account):
    steer(account, payout_behavior="unavailable")
    with pytest.raises(ProviderUnavailable):
        _payout(account)
    with pytest.raises(ProviderUnavailable):
        provider_for(account).fetch_payout(idempotency_key="attempt-1")
    assert not SandboxPayout.objects.exists()


@pytest.mark.parametrize("call", ["create_payout", "fetch_payout"])
def test_a_bad_api_key_is_provider_rejected(sandbox_service, account, call):
    account.api_key = "sk_test_wrong"
    with pytest.raises(ProviderRejected) as refusal:
        if call == "create_payout":
            _payout(account)
        else:
            provider_for(account).fetch_payout(idempotency_key="attempt-1")
    assert refusal.value.status == 401
    assert not SandboxPayout.objects.exists()


def test_a_slow_psp_is_a_timeout_but_the_payout_may_exist(sandbox_service, account, settings):
    # given a PSP slower than our timeout
    settings.PSP_TIMEOUT_SECONDS = 0.3
    steer(account, latency_ms=800)
    # when we send a payout, then we time out: the outcome is unknown
    with pytest.raises(ProviderTimeout):
        _payout(account)
    # and indeed the PSP went on and took it; asking (in time) tells us so
    wait_for(lambda: SandboxPayout.objects.filter(idempotency_key="attempt-1").exists(), timeout=10, what="payout")
    steer(account, latency_ms=0)
    settings.PSP_TIMEOUT_SECONDS = 5
    assert provider_for(account).fetch_payout(idempotency_key="attempt-1").status == "succeeded"


def test_a_closed_port_is_provider_unavailable(account):
    account.base_url = "http://127.0.0.1:9"
    with pytest.raises(ProviderUnavailable):
        _payout(account)


def test_deliveries_to_a_failing_receiver_back_off_and_stop(sandbox_service, merchant):
    # given a webhook to a receiver that answers 404
    merchant.webhook_url = f"{sandbox_service}/no-such-receiver/"
    merchant.save()
    delivery = engine.enqueue_webhook(merchant, "payout.succeeded", {"payout_id": "po_1"})
    # when the sender tries each time the delivery falls due
    gaps, now = [], timezone.now()
    for _ in range(engine.MAX_DELIVERY_ATTEMPTS):
        assert engine.deliver_due(now=now) == 0
        delivery.refresh_from_db()
        if delivery.gave_up_at is None:
            gaps.append((delivery.next_attempt_at - now).total_seconds())
            now = delivery.next_attempt_at
    # then the waits double from 2 s, every try was refused, and it gave up after the last try
    assert gaps == [2.0 * 2**n for n in range(engine.MAX_DELIVERY_ATTEMPTS - 1)]
    assert (delivery.attempts, delivery.last_status, delivery.delivered_at) == (10, 404, None)
    assert delivery.gave_up_at == now
    # and nothing more is sent, however late
    assert engine.deliver_due(now=now + timedelta(days=1)) == 0
    assert SandboxDelivery.objects.get(pk=delivery.pk).attempts == 10


def test_a_receiver_that_cannot_be_reached_is_retried(merchant):
    merchant.webhook_url = "http://127.0.0.1:9/hooks/"
    merchant.save()
    delivery = engine.enqueue_webhook(merchant, "payment.succeeded", {"payment_id": "pay_1"})
    assert engine.deliver_due() == 0
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status, delivery.gave_up_at) == (1, None, None)
    assert "refused" in delivery.last_error.lower()
    assert delivery.next_attempt_at > timezone.now()


def _to_intake(url: str, headers: dict, body: str) -> int:
    """Deliver straight to our webhook intake (this live server serves the PSP, not the product)."""
    receive("sandbox", headers=headers, body=body.encode())
    return 200


def test_an_approved_payout_is_sent_over_http_and_paid(sandbox_service, account, player):
    # given a casino whose PSP is the sandbox service
    # when a withdrawal is approved (the dispatch runs after commit, inline in tests)
    withdrawal = withdrawal_in_state("approved", player=player)
    # then the payout went over HTTP, with the attempt id as idempotency key, and was accepted
    (attempt,) = attempts_of(withdrawal)
    at_psp = SandboxPayout.objects.get()
    assert (at_psp.idempotency_key, at_psp.amount, at_psp.reference) == (str(attempt.pk), AMOUNT, withdrawal.reference)
    assert (attempt.status, attempt.provider_reference, attempt.outcome_unknown) == ("pending", at_psp.id, False)
    # when the PSP's webhook comes in, then it is paid
    assert engine.deliver_due(send=_to_intake) == 1
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "paid"
    assert WebhookEvent.objects.get().outcome == "applied"
    assert balances(player) == (0, 0)


def test_a_payout_the_psp_refuses_fails_without_an_automatic_retry(sandbox_service, account, player):
    # given an account the PSP refuses (wrong key), and attempts left under the policy
    account.api_key = "sk_test_wrong"
    account.save()
    # when a withdrawal is approved and dispatched
    withdrawal = withdrawal_in_state("approved", player=player)
    # then the attempt failed with the PSP's refusal, the money is held, and no retry was started
    (attempt,) = attempts_of(withdrawal)
    assert attempt.status == "failed" and "Refused by the PSP" in attempt.failure_reason
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "payout_failed"
    assert balances(player) == (0, AMOUNT)
    assert not SandboxPayout.objects.exists()
