"""The same webhook delivered several times at once: one effect, every delivery answered 200.

Real threads on their own PostgreSQL connections, with committed data (transaction=True).
"""

import pytest
from django.test import Client

from payouts.models import WebhookEvent
from wallet.models import Deposit, PayoutAttempt, Withdrawal
from wallet.tests.api.helpers import balances
from wallet.tests.builders import AMOUNT, deposit_in_state, pending_attempt, withdrawal_in_state
from wallet.tests.concurrency import errors_of, run_together
from wallet.tests.invariants import assert_invariants

from .helpers import envelope, money_events, outcomes, payment_data, payout_data, post_event, signed_headers

pytestmark = pytest.mark.django_db(transaction=True)

DELIVERIES = 5


def _deliver_concurrently(secret: str, event_type: str, data: dict, *, same_id: bool) -> list[dict]:
    """Five deliveries released together: the same webhook-id, or five ids for the same news."""
    event_id, body = envelope(event_type, data)
    deliveries = [
        (event_id, body) if same_id else envelope(event_type, data, f"{event_id}-{n}") for n in range(DELIVERIES)
    ]

    def deliver(index: int):
        delivery_id, delivery_body = deliveries[index]
        response = post_event(Client(), signed_headers(secret, delivery_id, delivery_body), delivery_body)
        return response.status_code, response.json()

    results = run_together(DELIVERIES, deliver)
    assert errors_of(results) == []
    assert [status for status, _ in (r.value for r in results)] == [200] * DELIVERIES
    return [receipt for _, receipt in (r.value for r in results)]


@pytest.mark.parametrize("same_id", [True, False], ids=["one webhook-id", "five webhook-ids"])
def test_a_payment_delivered_five_times_at_once_credits_once(secret, player, same_id):
    # given a deposit at the PSP
    deposit = deposit_in_state("pending_provider", player=player)
    # when the PSP's payment.succeeded arrives five times at the same moment
    receipts = _deliver_concurrently(secret, "payment.succeeded", payment_data(deposit), same_id=same_id)
    # then the deposit is completed and credited exactly once
    assert Deposit.objects.get(pk=deposit.pk).state == "completed"
    assert money_events(deposit) == ["deposit_completed"]
    assert balances(player) == (AMOUNT, 0)
    if same_id:
        # one stored event; the other four were recognized as duplicates
        assert sorted(r["duplicate"] for r in receipts) == [False] + [True] * (DELIVERIES - 1)
        assert outcomes(deposit=deposit) == ["applied"]
    else:
        # five stored events: one applied, four found it done
        assert sorted(r["outcome"] for r in receipts) == ["applied"] + ["no_change"] * (DELIVERIES - 1)
        assert outcomes(deposit=deposit) == ["applied"] + ["no_change"] * (DELIVERIES - 1)
    assert_invariants()


@pytest.mark.parametrize("same_id", [True, False], ids=["one webhook-id", "five webhook-ids"])
def test_a_payout_reported_five_times_at_once_pays_once(secret, player, same_id):
    # given a withdrawal whose payout is at the PSP
    withdrawal = withdrawal_in_state("payout_pending", player=player)
    attempt = pending_attempt(withdrawal)
    # when payout.succeeded arrives five times at once
    receipts = _deliver_concurrently(secret, "payout.succeeded", payout_data(attempt), same_id=same_id)
    # then one withdraw_paid, one succeeded attempt, no held money
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "paid"
    assert money_events(withdrawal) == ["withdraw_requested", "withdraw_paid"]
    assert list(PayoutAttempt.objects.filter(withdrawal=withdrawal).values_list("status", flat=True)) == ["succeeded"]
    assert balances(player) == (0, 0)
    stored = WebhookEvent.objects.filter(payout_attempt=attempt).count()
    assert stored == (1 if same_id else DELIVERIES)
    assert sum(r["outcome"] == "applied" for r in receipts) == 1
    assert_invariants()
