"""Reconciliation over chargebacks, reversals, receivables and returned payouts (section 16): healthy
books give no finding (three-leg entries included); each new event missing, doubled or unbalanced is found."""

import pytest

from players.tests.factories import PlayerFactory
from reconciliation.models import Finding, FindingType
from wallet.models import JournalEntry, LedgerEvent, Posting
from wallet.services import (
    approve_withdrawal,
    charge_back_deposit,
    charge_back_deposit_again,
    record_payout_returned,
    record_payout_succeeded,
    request_withdrawal,
    reverse_chargeback,
    start_payout,
)
from wallet.tests.builders import PSP, REASON, SYSTEM, operator_of, player_of
from wallet.tests.factories import card, deposit_with

from .helpers import add_entry, allow_rewriting_history, found, paid_through_psp, reconcile, sql

pytestmark = pytest.mark.django_db


def paid_to(player, amount: int, method):
    """A withdrawal of `amount` to `method`, paid by the PSP; returns its attempt."""
    withdrawal = request_withdrawal(
        player=player, amount=amount, currency="EUR", actor=player_of(player), payment_method=method
    )
    approve_withdrawal(withdrawal, actor=operator_of(player.tenant), reason=REASON)
    attempt = start_payout(withdrawal, actor=SYSTEM, provider="sandbox")
    record_payout_succeeded(attempt, actor=PSP, provider_reference=f"po_{attempt.pk.hex[:12]}")
    return attempt


def disputed_books(player):
    """A deposit charged back after it was paid out (a receivable, a three-leg entry), one charged
    back and reversed, one charged back again after its reversal, and a payout returned by the bank
    (which repays the receivable first)."""
    spent = deposit_with(player, 60_00, method=card())
    paid_to(player, 40_00, spent.payment_method)  # 20.00 stay available: the chargeback takes them, 40.00 owed
    charge_back_deposit(spent, actor=PSP)
    won = deposit_with(player, 20_00, method=card())  # repays 20.00 of the 40.00 owed
    charge_back_deposit(won, actor=PSP)
    reverse_chargeback(won, actor=PSP)  # the 20.00 come back: they repay 20.00 more
    lost = deposit_with(player, 15_00, method=card())
    charge_back_deposit(lost, actor=PSP)
    reverse_chargeback(lost, actor=PSP)
    charge_back_deposit_again(lost, actor=PSP)  # the card holder's bank disputed again: the 15.00 go for good
    returned = paid_through_psp(PlayerFactory(tenant=player.tenant), 10_00)[1]
    record_payout_returned(returned, actor=PSP)
    return spent, won, returned


def test_healthy_disputes_and_returns_give_no_findings():
    player = PlayerFactory()
    spent, _won, _returned = disputed_books(player)
    assert Posting.objects.filter(entry__deposit=spent, entry__event_type="deposit_charged_back").count() == 3
    run = reconcile()
    assert run.status == "succeeded"
    assert list(Finding.objects.filter(run=run).values("type", "detail")) == []


def test_a_missing_or_doubled_dispute_event_is_found():
    player = PlayerFactory()
    spent, won, returned = disputed_books(player)
    allow_rewriting_history("wallet_journalentry", "wallet_posting")
    sql("ALTER TABLE wallet_journalentry DROP CONSTRAINT IF EXISTS journal_event_once_per_deposit")
    sql("DROP INDEX IF EXISTS journal_event_once_per_deposit")
    # a reversal without its chargeback, and a second chargeback of the spent deposit
    entry = JournalEntry.objects.get(deposit=won, event_type=LedgerEvent.DEPOSIT_CHARGED_BACK)
    sql("DELETE FROM wallet_posting WHERE entry_id = %s", [entry.pk])
    sql("DELETE FROM wallet_journalentry WHERE id = %s", [entry.pk])
    add_entry(
        event_type=LedgerEvent.DEPOSIT_CHARGED_BACK,
        deposit=spent,
        legs=[("psp_clearing", None, 60_00), ("player_available", spent.wallet_id, -60_00)],
    )
    run = reconcile()
    assert {(t, o) for t, o, _ in found(run)} >= {
        (FindingType.LEDGER_EVENT_STATE_MISMATCH, "deposit"),
    }
    kinds = set(Finding.objects.filter(run=run).values_list("object_id", "detail__event_type"))
    assert (str(won.pk), "deposit_charged_back") in kinds and (str(spent.pk), "deposit_charged_back") in kinds


def test_an_unbalanced_three_leg_entry_is_found():
    player = PlayerFactory()
    spent, _won, _returned = disputed_books(player)
    allow_rewriting_history("wallet_posting")
    entry = JournalEntry.objects.get(deposit=spent, event_type=LedgerEvent.DEPOSIT_CHARGED_BACK)
    sql(
        "UPDATE wallet_posting SET amount = amount - 1 WHERE entry_id = %s AND account = 'player_receivable'",
        [entry.pk],
    )
    run = reconcile()
    assert (FindingType.UNBALANCED_JOURNAL_ENTRY, "journal_entry", str(entry.pk)) in found(run)


def test_a_second_chargeback_without_its_entry_or_with_a_doubled_one_is_found():
    player = PlayerFactory()
    lost = deposit_with(player, 15_00, method=card())
    charge_back_deposit(lost, actor=PSP)
    reverse_chargeback(lost, actor=PSP)
    reversed_only = deposit_with(player, 25_00, method=card())
    charge_back_deposit(reversed_only, actor=PSP)
    reverse_chargeback(reversed_only, actor=PSP)
    charge_back_deposit_again(lost, actor=PSP)
    allow_rewriting_history("wallet_journalentry", "wallet_posting")
    # the charged-back-again deposit loses its entry; the one only reversed gets one it should not have
    entry = JournalEntry.objects.get(deposit=lost, event_type=LedgerEvent.DEPOSIT_CHARGED_BACK_AGAIN)
    sql("DELETE FROM wallet_posting WHERE entry_id = %s", [entry.pk])
    sql("DELETE FROM wallet_journalentry WHERE id = %s", [entry.pk])
    add_entry(
        event_type=LedgerEvent.DEPOSIT_CHARGED_BACK_AGAIN,
        deposit=reversed_only,
        legs=[("psp_clearing", None, 25_00), ("player_available", reversed_only.wallet_id, -25_00)],
    )
    run = reconcile()
    kinds = set(
        Finding.objects.filter(run=run, type=FindingType.LEDGER_EVENT_STATE_MISMATCH).values_list(
            "object_id", "detail__event_type"
        )
    )
    assert {
        (str(lost.pk), "deposit_charged_back_again"),
        (str(reversed_only.pk), "deposit_charged_back_again"),
    } <= kinds
