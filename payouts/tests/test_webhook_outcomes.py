"""Verified webhooks: what each is applied as, stored raw with its outcome, and answered 200."""

import json

import pytest

from core.models import AuditEvent
from payouts.models import WebhookEvent
from payouts.tests.factories import ProviderAccountFactory
from players.tests.factories import PlayerFactory
from wallet.models import Deposit, Withdrawal
from wallet.tests.api.helpers import balances
from wallet.tests.builders import AMOUNT, deposit_in_state, pending_attempt, withdrawal_in_state
from wallet.tests.invariants import assert_invariants, expect_no_change

from .helpers import envelope, money_events, payment_data, payout_data, post_event, send_event, signed_headers

pytestmark = pytest.mark.django_db


def _receipt(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def test_payment_succeeded_completes_the_deposit_and_stores_the_raw_event(web, secret, tenant, player):
    # given a deposit at the PSP
    deposit = deposit_in_state("pending_provider", player=player)
    event_id, body = envelope("payment.succeeded", payment_data(deposit))
    # when the PSP reports the payment
    receipt = _receipt(post_event(web, signed_headers(secret, event_id, body), body))
    # then the deposit is completed and credited once
    assert receipt == {"received": True, "duplicate": False, "outcome": "applied"}
    assert Deposit.objects.get(pk=deposit.pk).state == "completed"
    assert money_events(deposit) == ["deposit_completed"]
    assert balances(player) == (AMOUNT, 0)
    # and the event is stored byte for byte, linked, with its outcome, and audited as accepted
    event = WebhookEvent.objects.get()
    assert (event.provider, event.event_id, event.event_type, event.payload) == (
        "sandbox",
        event_id,
        "payment.succeeded",
        body,
    )
    assert (event.tenant_id, event.deposit_id, event.outcome) == (tenant.pk, deposit.pk, "applied")
    accepted = AuditEvent.objects.get(action="webhook.accepted")
    assert (accepted.actor_type, accepted.after_state, accepted.data["event_id"]) == ("psp", "applied", event_id)
    assert_invariants()


def test_a_payment_that_overtakes_our_pending_bookkeeping_is_applied(web, secret, player):
    # given a deposit still `created` (the webhook overtook mark_deposit_pending)
    deposit = deposit_in_state("created", player=player)
    # when the PSP reports it paid, then it goes created -> pending_provider -> completed
    assert _receipt(send_event(web, secret, "payment.succeeded", payment_data(deposit)))["outcome"] == "applied"
    stored = Deposit.objects.get(pk=deposit.pk)
    assert (stored.state, stored.provider_reference) == ("completed", payment_data(deposit)["payment_id"])
    assert money_events(deposit) == ["deposit_completed"]


def test_payment_failed_fails_the_deposit_without_money(web, secret, player):
    deposit = deposit_in_state("pending_provider", player=player)
    assert _receipt(send_event(web, secret, "payment.failed", payment_data(deposit, status="failed")))["outcome"] == (
        "applied"
    )
    assert Deposit.objects.get(pk=deposit.pk).state == "failed"
    assert money_events(deposit) == []
    assert balances(player) == (0, 0)


def test_payout_succeeded_pays_the_withdrawal_once(web, secret, player):
    # given a withdrawal whose payout attempt is at the PSP
    withdrawal = withdrawal_in_state("payout_pending", player=player)
    attempt = pending_attempt(withdrawal)
    # when the PSP reports the payout paid
    receipt = _receipt(send_event(web, secret, "payout.succeeded", payout_data(attempt)))
    # then the withdrawal is paid, the held money has left, the attempt succeeded
    assert receipt["outcome"] == "applied"
    attempt.refresh_from_db()
    assert (attempt.status, attempt.provider_reference) == ("succeeded", payout_data(attempt)["payout_id"])
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "paid"
    assert money_events(withdrawal) == ["withdraw_requested", "withdraw_paid"]
    assert balances(player) == (0, 0)
    assert WebhookEvent.objects.get().payout_attempt_id == attempt.pk


def test_payout_failed_keeps_the_money_held(web, secret, player, tenant):
    tenant.policy.payout_retry_limit = 1  # no automatic retry to think about here
    tenant.policy.save()
    withdrawal = withdrawal_in_state("payout_pending", player=player)
    attempt = pending_attempt(withdrawal)
    data = payout_data(attempt, status="failed", reason="Beneficiary account closed")
    assert _receipt(send_event(web, secret, "payout.failed", data))["outcome"] == "applied"
    attempt.refresh_from_db()
    assert (attempt.status, attempt.failure_reason) == ("failed", "Beneficiary account closed")
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "payout_failed"
    assert balances(player) == (0, AMOUNT)
    assert money_events(withdrawal) == ["withdraw_requested"]


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("payment.succeeded", {"reference": "0190c3a0-0000-7000-8000-000000000000", "amount": 2500, "currency": "EUR"}),
        ("payment.failed", {"reference": "not-a-uuid", "amount": 2500, "currency": "EUR"}),
        (
            "payout.succeeded",
            {"idempotency_key": "0190c3a0-0000-7000-8000-000000000000", "amount": 1, "currency": "EUR"},
        ),
        ("payout.failed", {"idempotency_key": "", "amount": 1, "currency": "EUR"}),
    ],
)
def test_an_event_for_an_unknown_object_is_stored_and_acknowledged(web, secret, player, event_type, data):
    # given some money in flight that the event does not name
    deposit_in_state("pending_provider", player=player)
    # when the PSP reports on an object we do not have, then it is stored as unknown_object and answered 200
    with expect_no_change(audit_actions=("webhook.accepted",)):
        receipt = _receipt(send_event(web, secret, event_type, data))
    assert receipt["outcome"] == "unknown_object"
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.deposit_id, event.payout_attempt_id) == ("unknown_object", None, None)


def test_an_unsupported_event_type_is_stored_and_acknowledged(web, secret, player):
    deposit = deposit_in_state("pending_provider", player=player)
    with expect_no_change(audit_actions=("webhook.accepted",)):
        receipt = _receipt(send_event(web, secret, "payment.refunded", payment_data(deposit)))
    assert receipt["outcome"] == "unsupported"
    assert WebhookEvent.objects.get().event_type == "payment.refunded"


def test_a_repeated_webhook_id_is_acknowledged_and_ignored(web, secret, player):
    # given a payment.succeeded already applied
    deposit = deposit_in_state("pending_provider", player=player)
    event_id, body = envelope("payment.succeeded", payment_data(deposit))
    _receipt(post_event(web, signed_headers(secret, event_id, body), body))
    # when the PSP delivers the same webhook-id again, even re-signed and with another body
    _, other_body = envelope("payment.failed", payment_data(deposit), event_id)
    with expect_no_change():
        again = _receipt(post_event(web, signed_headers(secret, event_id, body), body))
        changed = _receipt(post_event(web, signed_headers(secret, event_id, other_body), other_body))
    # then both are 200 duplicates; one event row, one credit
    assert again == changed == {"received": True, "duplicate": True, "outcome": "duplicate"}
    assert WebhookEvent.objects.get().payload == body
    assert money_events(deposit) == ["deposit_completed"]


@pytest.mark.parametrize(
    "change",
    [{"amount": AMOUNT + 1}, {"amount": AMOUNT - 1}, {"currency": "USD"}, {"amount": str(AMOUNT)}, {"amount": None}],
)
@pytest.mark.parametrize("event_type", ["payment.succeeded", "payment.failed"])
def test_a_payment_event_with_other_money_is_a_mismatch_and_applies_nothing(web, secret, player, event_type, change):
    # given a deposit of 25.00 EUR at the PSP
    deposit = deposit_in_state("pending_provider", player=player)
    # when the PSP reports a payment of another amount or currency for it
    with expect_no_change(audit_actions=("webhook.accepted",)):
        receipt = _receipt(send_event(web, secret, event_type, payment_data(deposit, **change)))
    # then nothing is applied and the event is kept as a mismatch for review
    assert receipt["outcome"] == "mismatch"
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.deposit_id) == ("mismatch", deposit.pk)
    assert "2500 EUR" in event.outcome_detail


@pytest.mark.parametrize("change", [{"amount": AMOUNT * 10}, {"currency": "USD"}])
@pytest.mark.parametrize("event_type", ["payout.succeeded", "payout.failed"])
def test_a_payout_event_with_other_money_is_a_mismatch_and_applies_nothing(web, secret, player, event_type, change):
    withdrawal = withdrawal_in_state("payout_pending", player=player)
    attempt = pending_attempt(withdrawal)
    with expect_no_change(audit_actions=("webhook.accepted",)):
        receipt = _receipt(send_event(web, secret, event_type, payout_data(attempt, **change)))
    assert receipt["outcome"] == "mismatch"
    assert WebhookEvent.objects.get().payout_attempt_id == attempt.pk


def test_an_event_naming_another_tenants_objects_is_never_applied_across_tenants(web, secret, player):
    # given a deposit and a payout of casino B
    other = ProviderAccountFactory()
    foreign_player = PlayerFactory(tenant=other.tenant)
    foreign_deposit = deposit_in_state("pending_provider", player=foreign_player)
    foreign_attempt = pending_attempt(withdrawal_in_state("payout_pending", player=foreign_player))
    # when casino A's merchant (validly signed with A's secret) reports them paid
    with expect_no_change(audit_actions=("webhook.accepted", "webhook.accepted")):
        paid = _receipt(send_event(web, secret, "payment.succeeded", payment_data(foreign_deposit)))
        payout = _receipt(send_event(web, secret, "payout.succeeded", payout_data(foreign_attempt)))
    # then both are unknown objects for A, stored under A, and B's money has not moved
    assert (paid["outcome"], payout["outcome"]) == ("unknown_object", "unknown_object")
    assert set(WebhookEvent.objects.values_list("tenant_id", flat=True)) == {player.tenant_id}
    assert Deposit.objects.get(pk=foreign_deposit.pk).state == "pending_provider"
    assert AuditEvent.objects.filter(tenant_id=other.tenant_id, action__startswith="webhook").count() == 0


def test_the_signature_decides_the_tenant_when_several_casinos_share_the_psp(web, player, account):
    # given two casinos at the sandbox PSP, each with a deposit
    other = ProviderAccountFactory()
    foreign_deposit = deposit_in_state("pending_provider", player=PlayerFactory(tenant=other.tenant))
    # when B's merchant reports B's deposit paid, then it is applied to B
    receipt = _receipt(send_event(web, other.webhook_secrets[0], "payment.succeeded", payment_data(foreign_deposit)))
    assert receipt["outcome"] == "applied"
    assert WebhookEvent.objects.get().tenant_id == other.tenant_id
    assert Deposit.objects.get(pk=foreign_deposit.pk).state == "completed"


def test_a_signed_body_that_is_not_a_json_object_is_refused_with_the_reason(web, secret):
    # (every kind of unreadable body: payouts/tests/test_webhook_hostile_input.py)
    for body in ("[1, 2]", "not json"):
        with expect_no_change(audit_actions=("webhook.malformed",)):
            response = post_event(web, signed_headers(secret, "evt_x", body), body)
        assert response.status_code == 400, response.content
        assert json.loads(response.content)["error_code"] == "VALIDATION_ERROR"
    assert not WebhookEvent.objects.exists()
