"""admin/transactions/<id>/snapshot/: everything about one payment, in order, for an investigator."""

import pytest
from django.test import Client

from core.models import AuditEvent
from payouts.tests.factories import ProviderAccountFactory
from payouts.tests.helpers import deliver_all, payment_data, send_event
from wallet.services import record_payout_failed, record_payout_succeeded, start_payout
from wallet.tests.builders import PSP, SYSTEM, deposit_in_state, pending_attempt, withdrawal_in_state

from .helpers import as_operator, body_of, decide, detail_url, snapshot_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(tenant):
    return ProviderAccountFactory(tenant=tenant)


def _snapshot(user, tx) -> dict:
    response = as_operator(user).get(snapshot_url(tx.pk))
    assert response.status_code == 200, response.content
    return body_of(response)


def _history(body) -> list[tuple]:
    return [(h["from_state"], h["to_state"], h["actor_type"]) for h in body["history"]]


def _assert_entries_balance(body, expected_events: list[str], amount: int) -> None:
    assert [e["event_type"] for e in body["ledger_entries"]] == expected_events
    for entry in body["ledger_entries"]:
        amounts = [p["amount"] for p in entry["postings"]]
        assert len(amounts) == 2 and sum(amounts) == 0 and {abs(a) for a in amounts} == {amount}
    ids = [e["id"] for e in body["ledger_entries"]]
    assert ids == sorted(ids)


def _assert_audit_in_order(body, tx, expected_actions: set[str]) -> None:
    actions = [e["action"] for e in body["audit_events"]]
    assert set(actions) == expected_actions and len(actions) == len(expected_actions)
    stored = AuditEvent.objects.filter(id__in=[e["id"] for e in body["audit_events"]]).order_by("created_at", "id")
    assert [e.id for e in stored] == [e["id"] for e in body["audit_events"]]
    assert {e["tenant"] for e in body["audit_events"]} == {tx.tenant_id}


def test_a_withdrawal_paid_through_the_sandbox_psp(
    account, finance, viewer, player, django_capture_on_commit_callbacks
):
    # given a withdrawal approved by an operator, sent to the sandbox PSP after commit, and paid by its webhook
    withdrawal = withdrawal_in_state("requested", player=player)
    with django_capture_on_commit_callbacks(execute=True):
        assert decide(as_operator(finance), withdrawal.pk, "approve", "KYC ok").status_code == 200
    assert deliver_all(Client()) == 1
    # when a viewer opens its snapshot
    body = _snapshot(viewer, withdrawal)
    # then it shows the paid withdrawal and the emptied wallet
    tx = body["transaction"]
    assert (tx["id"], tx["type"], tx["state"], tx["amount"], tx["currency"]) == (
        str(withdrawal.pk),
        "withdrawal",
        "paid",
        "25.00",
        "EUR",
    )
    assert tx["reference"] == withdrawal.reference and tx["player"]["id"] == player.pk
    assert body["wallet"] == {"currency": "EUR", "available": "0.00", "held": "0.00", "receivable": "0.00"}
    # and the state history in order, with who moved it
    assert _history(body) == [
        ("", "requested", "player"),
        ("requested", "approved", "operator"),
        ("approved", "payout_pending", "system"),
        ("payout_pending", "paid", "psp"),
    ]
    assert body["history"][1]["reason"] == "KYC ok"
    assert [(a["operator"], a["reason"]) for a in body["approvals"]] == [(finance.pk, "KYC ok")]
    # and the journal entries with balanced postings
    _assert_entries_balance(body, ["withdraw_requested", "withdraw_paid"], 25_00)
    # and the payout attempt and the PSP's webhook
    (attempt,) = body["payout_attempts"]
    assert (attempt["number"], attempt["status"], attempt["provider"], attempt["dispatch_count"]) == (
        1,
        "succeeded",
        "sandbox",
        1,
    )
    assert attempt["provider_reference"] and attempt["outcome_unknown"] is False
    (webhook,) = body["webhook_events"]
    assert (webhook["provider"], webhook["event_type"], webhook["outcome"]) == (
        "sandbox",
        "payout.succeeded",
        "applied",
    )
    assert attempt["id"] in webhook["payload"]
    # and every audit event of the withdrawal and its attempt, oldest first
    _assert_audit_in_order(
        body,
        withdrawal,
        {
            "withdrawal.requested",
            "withdrawal.approved",
            "withdrawal.payout_pending",
            "payout_attempt.created",
            "payout_attempt.sent",
            "withdrawal.paid",
            "payout_attempt.succeeded",
        },
    )
    # and the withdrawal's detail endpoint answers with the same snapshot
    assert body_of(as_operator(viewer).get(detail_url(withdrawal.pk))) == body


def test_a_withdrawal_paid_on_its_second_attempt(account, finance, player):
    # given a payout that failed once, was retried by an operator and then succeeded
    withdrawal = withdrawal_in_state("approved", player=player)
    start_payout(withdrawal, actor=SYSTEM, provider="sandbox")
    record_payout_failed(pending_attempt(withdrawal), actor=PSP, reason="bank unreachable")
    assert decide(as_operator(finance), withdrawal.pk, "retry-payout", "bank is back").status_code == 200
    record_payout_succeeded(pending_attempt(withdrawal), actor=PSP, provider_reference="po_2")
    body = _snapshot(finance, withdrawal)
    # then both attempts are listed by number with their outcomes, and the history shows the retry
    assert [(a["number"], a["status"], a["failure_reason"]) for a in body["payout_attempts"]] == [
        (1, "failed", "bank unreachable"),
        (2, "succeeded", ""),
    ]
    assert [(h["from_state"], h["to_state"]) for h in body["history"]][2:] == [
        ("approved", "payout_pending"),
        ("payout_pending", "payout_failed"),
        ("payout_failed", "payout_pending"),
        ("payout_pending", "paid"),
    ]
    assert body["history"][-2]["reason"] == "bank is back"
    _assert_entries_balance(body, ["withdraw_requested", "withdraw_paid"], 25_00)
    actions = [e["action"] for e in body["audit_events"]]
    assert actions.count("payout_attempt.created") == 2
    assert {"payout_attempt.failed", "payout_attempt.succeeded"} <= set(actions)


def test_a_deposit_completed_by_the_psps_webhook(account, viewer, player):
    # given a deposit sent to the PSP and completed by its signed webhook
    deposit = deposit_in_state("pending_provider", player=player)
    response = send_event(Client(), account.webhook_secrets[0], "payment.succeeded", payment_data(deposit))
    assert response.status_code == 200, response.content
    body = _snapshot(viewer, deposit)
    tx = body["transaction"]
    assert (tx["id"], tx["type"], tx["state"], tx["amount"]) == (str(deposit.pk), "deposit", "completed", "25.00")
    assert body["wallet"] == {"currency": "EUR", "available": "25.00", "held": "0.00", "receivable": "0.00"}
    assert _history(body) == [
        ("", "created", "player"),
        ("created", "pending_provider", "psp"),
        ("pending_provider", "completed", "psp"),
    ]
    assert body["approvals"] == [] and body["payout_attempts"] == []
    _assert_entries_balance(body, ["deposit_completed"], 25_00)
    (webhook,) = body["webhook_events"]
    assert (webhook["event_type"], webhook["outcome"]) == ("payment.succeeded", "applied")
    _assert_audit_in_order(body, deposit, {"deposit.created", "deposit.pending_provider", "deposit.completed"})


def test_a_deposit_is_not_a_withdrawal(finance, player):
    deposit = deposit_in_state("completed", player=player)
    assert as_operator(finance).get(detail_url(deposit.pk)).status_code == 404
    assert _snapshot(finance, deposit)["transaction"]["type"] == "deposit"
