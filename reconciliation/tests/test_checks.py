"""Every invariant check, each shown a deliberately corrupted book; clean books give nothing.

Books are built through the real services (wallet.tests.builders); the corruption is
raw SQL (helpers.py). Each test asserts the whole set of findings, so a check that
also fires on the healthy rows around the corruption fails the test.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.bulk_load import load_books, triggers_off
from players.tests.factories import PlayerFactory
from reconciliation.models import Finding, FindingType, Severity
from tenants.tests.factories import TenantFactory
from wallet.models import Account, Deposit, JournalEntry, LedgerEvent, PayoutAttempt, Posting, Wallet, Withdrawal
from wallet.tests.builders import AMOUNT, DEPOSIT_STATES, WITHDRAWAL_STATES, deposit_in_state, withdrawal_in_state
from wallet.tests.factories import fund

from .helpers import (
    add_entry,
    allow_rewriting_history,
    drop_constraint,
    finding,
    found,
    paid_through_psp,
    reconcile,
    sql,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def player():
    return PlayerFactory()


def test_clean_books_in_every_state_give_no_findings():
    # given two tenants whose players have withdrawals and deposits in every state, one paid by the PSP
    for tenant in (TenantFactory(), TenantFactory()):
        player = PlayerFactory(tenant=tenant)
        for state in WITHDRAWAL_STATES:
            withdrawal_in_state(state, player=player)
        for state in DEPOSIT_STATES:
            deposit_in_state(state, player=player)
        paid_through_psp(player)
    # when every tenant is reconciled
    run = reconcile()
    # then the run succeeded and found nothing
    assert run.status == "succeeded"
    assert list(Finding.objects.filter(run=run).values("type", "detail")) == []
    assert (run.findings_count, run.counts_by_type) == (0, {})
    assert not Finding.objects.filter(run=run).exists()
    assert set(run.stats["checks"]) == {
        "withdrawal_ledger_events",
        "deposit_ledger_events",
        "wallet_balances",
        "journal_entries",
        "payout_attempts",
        "stuck_transactions",
        "game_transaction_ledger_events",
        "game_round_totals",
        "game_rounds_idle",
    }


# --- ledger against transaction states ---------------------------------------------------------


def test_a_paid_withdrawal_without_its_withdraw_paid_entry(player):
    # given an approved withdrawal whose state is set to paid behind the services' back (no ledger entry)
    withdrawal = withdrawal_in_state("approved", player=player)
    sql("UPDATE wallet_withdrawal SET state = 'paid' WHERE id = %s", [withdrawal.pk])
    # when reconciled
    run = reconcile()
    # then exactly one finding: a paid withdrawal with no withdraw_paid, critical
    assert found(run) == {(FindingType.PAID_WITHDRAWAL_EVENT_COUNT, "withdrawal", str(withdrawal.pk))}
    result = finding(run, FindingType.PAID_WITHDRAWAL_EVENT_COUNT)
    assert (result.expected, result.actual, result.severity) == (1, 0, Severity.CRITICAL)
    assert result.tenant_id == player.tenant_id
    assert result.detail["event_type"] == LedgerEvent.WITHDRAW_PAID
    assert result.detail["transaction_id"] == str(withdrawal.pk)


def test_a_paid_withdrawal_with_two_withdraw_paid_entries(player):
    # given a paid withdrawal and a second withdraw_paid entry (the unique constraint dropped for it),
    # whose legs both sit on the clearing account so no wallet moves
    withdrawal = withdrawal_in_state("paid", player=player)
    drop_constraint("wallet_journalentry", "journal_event_once_per_withdrawal")
    add_entry(
        event_type=LedgerEvent.WITHDRAW_PAID,
        withdrawal=withdrawal,
        legs=[(Account.PSP_CLEARING, None, AMOUNT), (Account.PSP_CLEARING, None, -AMOUNT)],
    )
    # when reconciled
    run = reconcile()
    # then the paid withdrawal is reported with two withdraw_paid entries where one belongs
    assert found(run) == {(FindingType.PAID_WITHDRAWAL_EVENT_COUNT, "withdrawal", str(withdrawal.pk))}
    assert (finding(run, FindingType.PAID_WITHDRAWAL_EVENT_COUNT).expected, run.findings_count) == (1, 1)
    assert finding(run, FindingType.PAID_WITHDRAWAL_EVENT_COUNT).actual == 2


def test_a_completed_deposit_without_its_deposit_completed_entry(player):
    # given a pending deposit marked completed behind the services' back
    deposit = deposit_in_state("pending_provider", player=player)
    sql("UPDATE wallet_deposit SET state = 'completed', completed_at = now() WHERE id = %s", [deposit.pk])
    # when reconciled
    run = reconcile()
    # then the deposit is reported: one deposit_completed expected, none found
    assert found(run) == {(FindingType.COMPLETED_DEPOSIT_EVENT_COUNT, "deposit", str(deposit.pk))}
    result = finding(run, FindingType.COMPLETED_DEPOSIT_EVENT_COUNT)
    assert (result.expected, result.actual, result.severity) == (1, 0, Severity.CRITICAL)


def test_a_withdraw_released_entry_on_a_paid_withdrawal(player):
    # given a paid withdrawal that also got a (balanced, clearing-only) withdraw_released entry
    withdrawal = withdrawal_in_state("paid", player=player)
    add_entry(
        event_type=LedgerEvent.WITHDRAW_RELEASED,
        withdrawal=withdrawal,
        legs=[(Account.PSP_CLEARING, None, AMOUNT), (Account.PSP_CLEARING, None, -AMOUNT)],
    )
    # when reconciled
    run = reconcile()
    # then the movement a paid withdrawal must not have is reported
    assert found(run) == {(FindingType.LEDGER_EVENT_STATE_MISMATCH, "withdrawal", str(withdrawal.pk))}
    result = finding(run, FindingType.LEDGER_EVENT_STATE_MISMATCH)
    assert (result.expected, result.actual, result.detail["event_type"], result.detail["state"]) == (
        0,
        1,
        LedgerEvent.WITHDRAW_RELEASED,
        "paid",
    )
    assert result.severity == Severity.HIGH


def test_a_deposit_completed_entry_on_a_failed_deposit(player):
    # given a completed deposit whose state is turned to failed behind the services' back
    deposit = deposit_in_state("completed", player=player)
    sql("UPDATE wallet_deposit SET state = 'failed' WHERE id = %s", [deposit.pk])
    # when reconciled
    run = reconcile()
    # then its deposit_completed entry is a movement its state should not have
    assert found(run) == {(FindingType.LEDGER_EVENT_STATE_MISMATCH, "deposit", str(deposit.pk))}
    result = finding(run, FindingType.LEDGER_EVENT_STATE_MISMATCH)
    assert (result.expected, result.actual, result.detail["event_type"]) == (0, 1, LedgerEvent.DEPOSIT_COMPLETED)


def test_a_withdrawal_without_its_withdraw_requested_entry(player):
    # given a requested withdrawal whose journal entry and postings are deleted (and the wallet put back)
    withdrawal = withdrawal_in_state("requested", player=player)
    allow_rewriting_history("wallet_journalentry", "wallet_posting")
    entry = JournalEntry.objects.get(withdrawal=withdrawal)
    sql("DELETE FROM wallet_posting WHERE entry_id = %s", [entry.pk])
    sql("DELETE FROM wallet_journalentry WHERE id = %s", [entry.pk])
    sql(
        "UPDATE wallet_wallet SET balance_available = balance_available + %s, balance_held = balance_held - %s"
        " WHERE id = %s",
        [AMOUNT, AMOUNT, withdrawal.wallet_id],
    )
    # when reconciled
    run = reconcile()
    # then the missing movement is reported against the withdrawal
    result = finding(run, FindingType.LEDGER_EVENT_STATE_MISMATCH)
    assert (result.object_id, result.expected, result.actual) == (str(withdrawal.pk), 1, 0)
    assert result.detail["event_type"] == LedgerEvent.WITHDRAW_REQUESTED
    assert run.findings_count == 1


def test_a_deposit_event_booked_on_a_withdrawal(player):
    # given a withdrawal that also carries a deposit_completed entry (a money event of the wrong kind)
    withdrawal = withdrawal_in_state("requested", player=player)
    add_entry(
        event_type=LedgerEvent.DEPOSIT_COMPLETED,
        withdrawal=withdrawal,
        legs=[(Account.PSP_CLEARING, None, AMOUNT), (Account.PSP_CLEARING, None, -AMOUNT)],
    )
    # when reconciled
    run = reconcile()
    # then it is reported as an event no withdrawal may have
    result = finding(run, FindingType.LEDGER_EVENT_STATE_MISMATCH)
    assert (result.object_id, result.detail["event_type"], result.expected, result.actual) == (
        str(withdrawal.pk),
        "other",
        0,
        1,
    )


# --- ledger against itself and the wallets -----------------------------------------------------


@pytest.mark.parametrize(
    ("column", "finding_type", "account"),
    [
        ("balance_available", FindingType.WALLET_AVAILABLE_MISMATCH, "player_available"),
        ("balance_held", FindingType.WALLET_HELD_MISMATCH, "player_held"),
        ("balance_receivable", FindingType.WALLET_RECEIVABLE_MISMATCH, "player_receivable"),
    ],
)
def test_a_wallet_balance_that_differs_from_its_ledger(player, column, finding_type, account):
    # given a wallet with money available and held, one of whose balances is raised by 1 cent
    withdrawal_in_state("requested", player=player)
    wallet = Wallet.objects.get(player=player)
    before = getattr(wallet, column)
    sql(f"UPDATE wallet_wallet SET {column} = {column} + 1 WHERE id = %s", [wallet.pk])
    # when reconciled
    run = reconcile()
    # then exactly that balance of that wallet is reported: the ledger's sum expected, the cache found
    assert found(run) == {(finding_type, "wallet", str(wallet.pk))}
    result = finding(run, finding_type)
    assert (result.expected, result.actual, result.severity) == (before, before + 1, Severity.CRITICAL)
    assert (result.detail["account"], result.detail["difference"], result.detail["currency"]) == (account, 1, "EUR")


def test_a_wallet_whose_postings_were_rewritten(player):
    # given a funded wallet whose available posting is rewritten (append-only trigger switched off),
    # together with its clearing leg so the entry still balances
    wallet = fund(player, AMOUNT)
    allow_rewriting_history("wallet_posting")
    entry = JournalEntry.objects.get(deposit__wallet=wallet)
    sql("UPDATE wallet_posting SET amount = amount * 2 WHERE entry_id = %s", [entry.pk])
    # when reconciled
    run = reconcile()
    # then the wallet no longer matches its ledger (available), and nothing else is wrong
    assert found(run) == {(FindingType.WALLET_AVAILABLE_MISMATCH, "wallet", str(wallet.pk))}
    result = finding(run, FindingType.WALLET_AVAILABLE_MISMATCH)
    assert (result.expected, result.actual) == (2 * AMOUNT, AMOUNT)


def test_an_unbalanced_journal_entry(player):
    # given a deposit whose clearing leg is changed by 1 cent (append-only and balance triggers off)
    deposit = deposit_in_state("completed", player=player)
    allow_rewriting_history("wallet_posting")
    entry = JournalEntry.objects.get(deposit=deposit)
    sql("UPDATE wallet_posting SET amount = amount + 1 WHERE entry_id = %s AND account = 'psp_clearing'", [entry.pk])
    # when reconciled
    run = reconcile()
    # then the entry is reported: sum 1 where 0 belongs, with its two postings
    assert found(run) == {(FindingType.UNBALANCED_JOURNAL_ENTRY, "journal_entry", str(entry.pk))}
    result = finding(run, FindingType.UNBALANCED_JOURNAL_ENTRY)
    assert (result.expected, result.actual) == ({"sum": 0, "postings": 2}, {"sum": 1, "postings": 2})
    assert (result.detail["transaction_id"], result.detail["event_type"]) == (str(deposit.pk), "deposit_completed")


def test_a_journal_entry_with_a_missing_leg(player):
    # given a deposit entry that lost its clearing leg, and one that lost both legs
    one, both = deposit_in_state("completed", player=player), deposit_in_state("completed", player=player)
    allow_rewriting_history("wallet_posting")
    one_entry, both_entry = JournalEntry.objects.get(deposit=one), JournalEntry.objects.get(deposit=both)
    sql("DELETE FROM wallet_posting WHERE entry_id = %s AND account = 'psp_clearing'", [one_entry.pk])
    sql("DELETE FROM wallet_posting WHERE entry_id = %s", [both_entry.pk])
    # when reconciled
    run = reconcile()
    # then both entries are unbalanced (one leg summing to the amount, and no legs at all);
    # the wallet lost the second deposit's credit in its ledger
    wallet = Wallet.objects.get(player=player)
    assert found(run) == {
        (FindingType.UNBALANCED_JOURNAL_ENTRY, "journal_entry", str(one_entry.pk)),
        (FindingType.UNBALANCED_JOURNAL_ENTRY, "journal_entry", str(both_entry.pk)),
        (FindingType.WALLET_AVAILABLE_MISMATCH, "wallet", str(wallet.pk)),
    }
    actual = {f.object_id: f.actual for f in Finding.objects.filter(run=run, type=FindingType.UNBALANCED_JOURNAL_ENTRY)}
    assert actual == {str(one_entry.pk): {"sum": AMOUNT, "postings": 1}, str(both_entry.pk): {"sum": 0, "postings": 0}}


# --- payouts -----------------------------------------------------------------------------------


def test_two_successful_payout_attempts_for_one_withdrawal(player):
    # given a withdrawal paid through the PSP, and a second attempt marked succeeded
    # (the one-success-per-withdrawal index dropped for it)
    withdrawal, attempt = paid_through_psp(player)
    drop_constraint("payouts_payoutattempt", "payout_one_success_per_withdrawal")
    second = PayoutAttempt.objects.create(tenant_id=withdrawal.tenant_id, withdrawal=withdrawal, number=2)
    sql("UPDATE payouts_payoutattempt SET status = 'succeeded' WHERE id = %s", [second.pk])
    # when reconciled
    run = reconcile()
    # then the double payout is reported, critical, naming both attempts
    assert found(run) == {(FindingType.DUPLICATE_PAYOUT_SUCCESS, "withdrawal", str(withdrawal.pk))}
    result = finding(run, FindingType.DUPLICATE_PAYOUT_SUCCESS)
    assert (result.expected, result.actual, result.severity) == (1, 2, Severity.CRITICAL)
    assert result.detail["succeeded_attempts"] == [str(attempt.pk), str(second.pk)]


def test_a_successful_payout_attempt_on_a_withdrawal_that_is_not_paid(player):
    # given a withdrawal whose payout failed, and its attempt turned to succeeded behind the services' back
    withdrawal = withdrawal_in_state("payout_failed", player=player)
    sql("UPDATE payouts_payoutattempt SET status = 'succeeded' WHERE withdrawal_id = %s", [withdrawal.pk])
    # when reconciled
    run = reconcile()
    # then the PSP paid money our books still hold
    assert found(run) == {(FindingType.PAYOUT_ATTEMPT_STATE_MISMATCH, "withdrawal", str(withdrawal.pk))}
    result = finding(run, FindingType.PAYOUT_ATTEMPT_STATE_MISMATCH)
    assert (result.expected, result.actual) == ({"state": "paid"}, {"state": "payout_failed", "succeeded_attempts": 1})


def test_a_pending_payout_attempt_on_a_withdrawal_no_longer_pending(player):
    # given a payout in flight whose withdrawal is moved to payout_failed without closing the attempt
    withdrawal = withdrawal_in_state("payout_pending", player=player)
    sql("UPDATE wallet_withdrawal SET state = 'payout_failed' WHERE id = %s", [withdrawal.pk])
    # when reconciled
    run = reconcile()
    # then the mismatch between the attempt and the withdrawal is reported
    result = finding(run, FindingType.PAYOUT_ATTEMPT_STATE_MISMATCH)
    assert (result.object_id, result.expected, result.actual) == (
        str(withdrawal.pk),
        {"pending_attempts": 0},
        {"state": "payout_failed", "pending_attempts": 1},
    )
    assert run.findings_count == 1


def test_a_payout_pending_withdrawal_without_any_attempt(player):
    # given an approved withdrawal moved to payout_pending without an attempt being opened
    withdrawal = withdrawal_in_state("approved", player=player)
    sql("UPDATE wallet_withdrawal SET state = 'payout_pending' WHERE id = %s", [withdrawal.pk])
    # when reconciled
    run = reconcile()
    # then the missing attempt is reported
    assert found(run) == {(FindingType.PAYOUT_ATTEMPT_STATE_MISMATCH, "withdrawal", str(withdrawal.pk))}
    result = finding(run, FindingType.PAYOUT_ATTEMPT_STATE_MISMATCH)
    assert (result.expected, result.actual) == (
        {"pending_attempts": 1},
        {"state": "payout_pending", "pending_attempts": 0},
    )


def test_a_paid_withdrawal_whose_only_attempt_failed(player):
    # given a withdrawal whose payout failed, set to paid with its withdraw_paid entry booked by hand
    withdrawal = withdrawal_in_state("payout_failed", player=player)
    sql("UPDATE wallet_withdrawal SET state = 'paid' WHERE id = %s", [withdrawal.pk])
    add_entry(
        event_type=LedgerEvent.WITHDRAW_PAID,
        withdrawal=withdrawal,
        legs=[(Account.PLAYER_HELD, withdrawal.wallet_id, -AMOUNT), (Account.PSP_CLEARING, None, AMOUNT)],
    )
    sql("UPDATE wallet_wallet SET balance_held = balance_held - %s WHERE id = %s", [AMOUNT, withdrawal.wallet_id])
    # when reconciled
    run = reconcile()
    # then the ledger and wallet agree, but no attempt paid it: reported
    assert found(run) == {(FindingType.PAYOUT_ATTEMPT_STATE_MISMATCH, "withdrawal", str(withdrawal.pk))}
    assert finding(run, FindingType.PAYOUT_ATTEMPT_STATE_MISMATCH).expected == {"succeeded_attempts": 1}


# --- stuck transactions ------------------------------------------------------------------------


def _age(table: str, pk, seconds: int) -> None:
    sql(f"UPDATE {table} SET updated_at = %s WHERE id = %s", [timezone.now() - timedelta(seconds=seconds), pk])


def test_payouts_pending_beyond_the_tenants_threshold(player):
    # given three payouts in flight: one for 2 hours, one for 30 minutes, one just now
    # (the tenant's threshold is the default hour)
    old, recent, fresh = (withdrawal_in_state("payout_pending", player=player) for _ in range(3))
    _age("wallet_withdrawal", old.pk, 2 * 3600)
    _age("wallet_withdrawal", recent.pk, 30 * 60)
    # when reconciled
    run = reconcile()
    # then only the one beyond the hour is stuck
    assert found(run) == {(FindingType.STUCK_PAYOUT, "withdrawal", str(old.pk))}
    result = finding(run, FindingType.STUCK_PAYOUT)
    assert result.expected == {"max_seconds": 3600}
    assert result.actual["state"] == "payout_pending" and 2 * 3600 <= result.actual["seconds"] < 2 * 3600 + 60
    assert result.severity == Severity.MEDIUM
    # and when the tenant allows three hours, nothing is stuck
    player.tenant.policy.stuck_payout_seconds = 3 * 3600
    player.tenant.policy.save()
    assert reconcile().findings_count == 0


def test_deposits_open_beyond_the_tenants_threshold(player):
    # given deposits left open for two days (created and pending at the PSP), one completed two days ago,
    # and one pending for an hour
    created, pending = deposit_in_state("created", player=player), deposit_in_state("pending_provider", player=player)
    completed, recent = (
        deposit_in_state("completed", player=player),
        deposit_in_state("pending_provider", player=player),
    )
    for deposit in (created, pending, completed):
        _age("wallet_deposit", deposit.pk, 2 * 86400)
    _age("wallet_deposit", recent.pk, 3600)
    # when reconciled
    run = reconcile()
    # then the two open for longer than the default day are stuck
    assert found(run) == {
        (FindingType.STUCK_DEPOSIT, "deposit", str(created.pk)),
        (FindingType.STUCK_DEPOSIT, "deposit", str(pending.pk)),
    }
    # and a tenant with a 30-minute threshold also sees the recent one
    player.tenant.policy.stuck_deposit_seconds = 1800
    player.tenant.policy.save()
    assert (FindingType.STUCK_DEPOSIT, "deposit", str(recent.pk)) in found(reconcile())


# --- scope and scale ---------------------------------------------------------------------------


def test_a_tenant_run_sees_only_its_tenant():
    # given two tenants, each with one drifted wallet
    wallets = {}
    for name in ("a", "b"):
        player = PlayerFactory(tenant=TenantFactory())
        wallets[name] = fund(player, AMOUNT)
        sql("UPDATE wallet_wallet SET balance_available = 0 WHERE id = %s", [wallets[name].pk])
    tenant_a, tenant_b = wallets["a"].tenant, wallets["b"].tenant
    # when tenant a alone is reconciled, then every tenant
    only_a, everyone = reconcile(tenant_a), reconcile()
    # then the tenant run found a's wallet only, and recorded its scope
    assert found(only_a) == {(FindingType.WALLET_AVAILABLE_MISMATCH, "wallet", str(wallets["a"].pk))}
    assert (only_a.tenant_id, only_a.scope) == (tenant_a.pk, f"tenant:{tenant_a.pk}")
    assert set(Finding.objects.filter(run=only_a).values_list("tenant_id", flat=True)) == {tenant_a.pk}
    # and the all-tenants run found both, each under its own tenant
    assert set(Finding.objects.filter(run=everyone).values_list("tenant_id", "object_id")) == {
        (tenant_a.pk, str(wallets["a"].pk)),
        (tenant_b.pk, str(wallets["b"].pk)),
    }
    assert everyone.tenant_id is None


def test_a_tenant_run_ignores_other_tenants_corruption_in_every_check():
    # given tenant b with a corruption of every kind the checks look for, and a clean tenant a
    clean = PlayerFactory(tenant=TenantFactory())
    withdrawal_in_state("paid", player=clean)
    dirty = PlayerFactory(tenant=TenantFactory())
    approved, completed = withdrawal_in_state("approved", player=dirty), deposit_in_state("completed", player=dirty)
    pending, stuck = withdrawal_in_state("payout_pending", player=dirty), deposit_in_state("created", player=dirty)
    sql("UPDATE wallet_withdrawal SET state = 'paid' WHERE id = %s", [approved.pk])
    sql("UPDATE wallet_deposit SET state = 'failed' WHERE id = %s", [completed.pk])
    sql("UPDATE wallet_wallet SET balance_held = balance_held + 7 WHERE player_id = %s", [dirty.pk])
    allow_rewriting_history("wallet_posting")
    sql(
        "UPDATE wallet_posting SET amount = amount + 1 WHERE account = 'psp_clearing' AND entry_id IN"
        " (SELECT id FROM wallet_journalentry WHERE deposit_id = %s)",
        [completed.pk],
    )
    sql("UPDATE wallet_withdrawal SET state = 'payout_failed' WHERE id = %s", [pending.pk])
    _age("wallet_deposit", stuck.pk, 3 * 86400)
    # when the clean tenant is reconciled, then the dirty one
    clean_run, dirty_run = reconcile(clean.tenant), reconcile(dirty.tenant)
    # then the clean tenant has no findings, and the dirty one has one of each kind
    assert clean_run.findings_count == 0
    assert set(dirty_run.counts_by_type) == {
        FindingType.PAID_WITHDRAWAL_EVENT_COUNT,
        FindingType.LEDGER_EVENT_STATE_MISMATCH,
        FindingType.WALLET_HELD_MISMATCH,
        FindingType.UNBALANCED_JOURNAL_ENTRY,
        FindingType.PAYOUT_ATTEMPT_STATE_MISMATCH,
        FindingType.STUCK_DEPOSIT,
    }


def test_the_number_of_queries_does_not_depend_on_the_number_of_rows():
    # given a small book (with a few stuck transactions, so findings are stored)
    with triggers_off():
        load_books(200, tenants=2, stale_every=5)
    with CaptureQueriesContext(connection) as small:
        small_run = reconcile()
    # when the book grows fifteen-fold (and so do the findings)
    with triggers_off():
        load_books(3000, tenants=2, stale_every=5)
    with CaptureQueriesContext(connection) as large:
        large_run = reconcile()
    # then the run found more but asked PostgreSQL the same number of times
    assert (small_run.findings_count, large_run.findings_count) == (8, 128)
    assert len(large) == len(small)
    assert [q["sql"].split()[0] for q in large] == [q["sql"].split()[0] for q in small]


def test_the_bulk_loaded_books_are_clean_but_for_the_stale_transactions():
    # given books loaded by COPY, every 10th wallet's open deposit and payout two days old
    with triggers_off():
        loaded = load_books(1000, tenants=3, stale_every=10)
    # when reconciled
    run = reconcile()
    # then the only findings are those stuck transactions
    assert (loaded.transactions, loaded.wallets) == (1000, 100)
    assert run.counts_by_type == {FindingType.STUCK_DEPOSIT: 10, FindingType.STUCK_PAYOUT: 10}
    assert Deposit.objects.count() == 400 and Withdrawal.objects.count() == 600
    assert Posting.objects.count() == loaded.postings == 2400


def test_the_planner_is_told_that_every_journal_entry_has_two_postings():
    # (so that the journal check streams the entries from their index instead of hashing them all)
    ((options,),) = sql(
        "SELECT attoptions FROM pg_attribute WHERE attrelid = 'wallet_posting'::regclass AND attname = 'entry_id'"
    )
    assert "n_distinct=-0.5" in options
