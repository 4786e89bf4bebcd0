"""`payout.returned`: the bank sends a paid payout back; the withdrawal becomes `returned` and the amount is
available again, receivable first. Signed, deduplicated, out-of-order safe, tenant-scoped; the sandbox PSP
returns a paid payout with `POST v1/payouts/<key>/return`."""

import json

import pytest

from payouts import dispatch
from payouts.providers import provider_for
from payouts.sandbox import engine
from payouts.sandbox.models import SandboxDelivery, SandboxPayout
from payouts.tests.factories import ProviderAccountFactory
from wallet.errors import IllegalTransactionStateTransition, PayoutOutcomeConflict
from wallet.models import PayoutAttempt, Wallet, Withdrawal
from wallet.services import (
    approve_withdrawal,
    charge_back_deposit,
    mark_withdrawal_paid,
    record_payout_failed,
    record_payout_returned,
    record_payout_succeeded,
    request_withdrawal,
    start_payout,
)
from wallet.tests.api.helpers import client_for, receipt_url
from wallet.tests.builders import PSP, REASON, SYSTEM, operator_of, player_of
from wallet.tests.factories import card, deposit_with, fund
from wallet.tests.invariants import assert_invariants, expect_no_change, record_effects

from .helpers import (
    attempts_of,
    deliver_all,
    envelope,
    http,
    money_events,
    payout_data,
    post_event,
    send_event,
    signed_headers,
)

RETURNED = "payout.returned"


def balances(player) -> tuple[int, int, int]:
    wallet = Wallet.objects.get(player=player, currency="EUR")
    return wallet.balance_available, wallet.balance_held, wallet.balance_receivable


def state(withdrawal) -> str:
    return Withdrawal.objects.get(pk=withdrawal.pk).state


def paid_through_psp(player, web, amount: int = 25_00) -> tuple[Withdrawal, PayoutAttempt]:
    """A withdrawal of `amount` paid by the in-process sandbox PSP (its payout.succeeded delivered)."""
    fund(player, amount)
    withdrawal = request_withdrawal(player=player, amount=amount, currency="EUR", actor=player_of(player))
    approve_withdrawal(withdrawal, actor=operator_of(player.tenant), reason=REASON)
    dispatch.dispatch_payout(withdrawal.pk)
    deliver_all(web)
    (attempt,) = attempts_of(withdrawal)
    assert (state(withdrawal), attempt.status) == ("paid", "succeeded")
    return withdrawal, attempt


@pytest.mark.django_db
def test_a_returned_payout_puts_the_money_back_once(web, secret, player):
    withdrawal, attempt = paid_through_psp(player, web)
    assert balances(player) == (0, 0, 0)
    event_id, body = envelope(RETURNED, payout_data(attempt, reason="Account closed"))
    # when the PSP reports the bank sent it back, twice under one id and once more under another
    with record_effects(Wallet.objects.get(player=player)) as effects:
        first = post_event(web, signed_headers(secret, event_id, body), body)
        again = post_event(web, signed_headers(secret, event_id, body), body)
        twin = send_event(web, secret, RETURNED, payout_data(attempt))
    assert [json.loads(r.content)["outcome"] for r in (first, again, twin)] == ["applied", "duplicate", "no_change"]
    # then the withdrawal is returned and its 25.00 are available again, once
    assert state(withdrawal) == "returned"
    assert effects.ledger == ["withdraw_returned"] and effects.history == [("paid", "returned")]
    assert balances(player) == (25_00, 0, 0)
    assert money_events(withdrawal) == ["withdraw_requested", "withdraw_paid", "withdraw_returned"]
    assert PayoutAttempt.objects.get(pk=attempt.pk).status == "succeeded"  # it did pay; the return came later
    # and the receipt shows it
    receipt = client_for(player).get(receipt_url(withdrawal.pk)).json()
    assert receipt["state"] == "returned"
    assert [step["state"] for step in receipt["timeline"]][-2:] == ["paid", "returned"]
    assert receipt["balance_after"] == {"available": "25.00", "held": "0.00", "receivable": "0.00"}
    assert_invariants()


@pytest.mark.django_db
def test_a_return_repays_what_a_chargeback_left_owed_first(web, secret, player):
    # given a 40.00 deposit by card, fully withdrawn and paid, then charged back: 40.00 owed
    disputed = deposit_with(player, 40_00, method=card())
    withdrawal = request_withdrawal(
        player=player, amount=40_00, currency="EUR", actor=player_of(player), payment_method=disputed.payment_method
    )
    approve_withdrawal(withdrawal, actor=operator_of(player.tenant), reason=REASON)
    attempt = start_payout(withdrawal, actor=SYSTEM, provider="sandbox")
    send_event(web, secret, "payout.succeeded", payout_data(attempt))
    charge_back_deposit(disputed, actor=PSP)
    assert balances(player) == (0, 0, 40_00)
    # when the bank returns the payout
    assert json.loads(send_event(web, secret, RETURNED, payout_data(attempt)).content)["outcome"] == "applied"
    # then the 40.00 settle what was owed first, and the account is free again
    assert balances(player) == (0, 0, 0)
    assert_invariants()


@pytest.mark.django_db
def test_a_return_that_overtakes_the_success_records_the_success_first(web, secret, player):
    fund(player, 30_00)
    withdrawal = request_withdrawal(player=player, amount=30_00, currency="EUR", actor=player_of(player))
    approve_withdrawal(withdrawal, actor=operator_of(player.tenant), reason=REASON)
    attempt = start_payout(withdrawal, actor=SYSTEM, provider="sandbox")
    # when the return arrives before the payout.succeeded, then the success
    assert json.loads(send_event(web, secret, RETURNED, payout_data(attempt)).content)["outcome"] == "applied"
    late = send_event(web, secret, "payout.succeeded", payout_data(attempt))
    assert json.loads(late.content)["outcome"] == "no_change"
    # then the withdrawal went paid, then returned, never backwards
    assert state(withdrawal) == "returned"
    assert money_events(withdrawal) == ["withdraw_requested", "withdraw_paid", "withdraw_returned"]
    assert balances(player) == (30_00, 0, 0)
    # and the success it recorded keeps the PSP's payout id, which the return carried
    assert PayoutAttempt.objects.get(pk=attempt.pk).provider_reference == payout_data(attempt)["payout_id"]
    assert_invariants()


@pytest.mark.django_db
def test_a_return_of_a_failed_payout_conflicts_and_moves_nothing(web, secret, player):
    fund(player, 30_00)
    withdrawal = request_withdrawal(player=player, amount=30_00, currency="EUR", actor=player_of(player))
    approve_withdrawal(withdrawal, actor=operator_of(player.tenant), reason=REASON)
    attempt = start_payout(withdrawal, actor=SYSTEM, provider="sandbox")
    record_payout_failed(attempt, actor=PSP, reason="bank down")
    with expect_no_change(audit_actions=("payout_attempt.conflicting_outcome", "webhook.accepted")):
        response = send_event(web, secret, RETURNED, payout_data(attempt))
    assert json.loads(response.content)["outcome"] == "conflict"
    with expect_no_change(audit_actions=("payout_attempt.conflicting_outcome",)), pytest.raises(PayoutOutcomeConflict):
        record_payout_returned(attempt, actor=PSP)


@pytest.mark.django_db
def test_a_return_for_another_amount_or_another_casino_moves_nothing(web, secret, player):
    withdrawal, attempt = paid_through_psp(player, web)
    other = ProviderAccountFactory()
    with expect_no_change(audit_actions=("webhook.accepted", "webhook.accepted")):
        mismatch = send_event(web, secret, RETURNED, payout_data(attempt, amount=1_00))
        foreign = send_event(web, other.webhook_secrets[0], RETURNED, payout_data(attempt))
    assert [json.loads(r.content)["outcome"] for r in (mismatch, foreign)] == ["mismatch", "unknown_object"]
    assert state(withdrawal) == "paid"


@pytest.mark.django_db
def test_only_a_paid_withdrawal_can_be_returned(web, player):
    fund(player, 30_00)
    withdrawal = request_withdrawal(player=player, amount=30_00, currency="EUR", actor=player_of(player))
    approve_withdrawal(withdrawal, actor=operator_of(player.tenant), reason=REASON)
    attempt = start_payout(withdrawal, actor=SYSTEM, provider="sandbox")
    record_payout_succeeded(attempt, actor=PSP)
    record_payout_returned(attempt, actor=PSP)
    with expect_no_change():
        record_payout_returned(attempt, actor=PSP)  # the state it is in: nothing happens
    assert state(withdrawal) == "returned"
    with pytest.raises(IllegalTransactionStateTransition):
        mark_withdrawal_paid(withdrawal, actor=operator_of(player.tenant), reason=REASON)


@pytest.mark.django_db
def test_the_sandbox_returns_a_paid_payout_and_the_casino_follows(web, player, account, merchant):
    withdrawal, attempt = paid_through_psp(player, web)
    engine.return_payout(merchant, str(attempt.pk), reason="Beneficiary deceased")
    assert deliver_all(web) == 1
    assert state(withdrawal) == "returned" and balances(player) == (25_00, 0, 0)
    (returned,) = SandboxDelivery.objects.filter(event_type=RETURNED)
    assert json.loads(returned.payload)["data"]["reason"] == "Beneficiary deceased"


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_return_api_needs_the_merchants_key_and_a_succeeded_payout(sandbox_service, account, merchant):
    provider_for(account).create_payout(idempotency_key="k-ret", amount=10_00, currency="EUR", reference="WD-R")
    url = f"{sandbox_service}/v1/payouts/k-ret/return"
    key = {"Authorization": f"Bearer {account.api_key}"}
    stranger = {"Authorization": f"Bearer {ProviderAccountFactory().api_key}"}
    assert http("POST", url, json_body={}, headers=stranger)[0] == 404
    assert http("POST", url, json_body={})[0] == 401
    assert http("POST", f"{sandbox_service}/v1/payouts/no-such/return", json_body={}, headers=key)[0] == 404
    status, body, _ = http("POST", url, json_body={"reason": "IBAN closed"}, headers=key)
    assert status == 200 and json.loads(body)["returned_at"]
    assert http("POST", url, json_body={}, headers=key)[0] == 200  # again: nothing more
    assert SandboxPayout.objects.get().status == "succeeded"
    assert list(SandboxDelivery.objects.order_by("id").values_list("event_type", flat=True)) == [
        "payout.succeeded",
        RETURNED,
    ]
    engine.set_behavior(merchant, payout_behavior="fail")
    provider_for(account).create_payout(idempotency_key="k-fail", amount=10_00, currency="EUR", reference="WD-F")
    failed = http("POST", f"{sandbox_service}/v1/payouts/k-fail/return", json_body={}, headers=key)
    assert failed[0] == 409
