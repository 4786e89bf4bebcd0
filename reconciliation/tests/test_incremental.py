"""Incremental runs: only what changed since the last checkpoint, the same findings as a full run.

Each corruption is planted twice over: in rows written after a checkpoint, where an
incremental run and a full run must report the very same finding (type, object, key,
expected, actual); and in old rows already checked, rewritten behind the services'
back without their `updated_at`, which an incremental run cannot see and the next full
run does. The commit-order cases (a transaction that took its ids before another and
committed after it) are in test_incremental_commit_order.py.
"""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from core.errors import ValidationFailed
from players.tests.factories import PlayerFactory
from reconciliation import checkpoint
from reconciliation.models import Checkpoint, Finding, FindingType, ReconciliationRun, WalletTotal
from tenants.tests.factories import TenantFactory
from wallet.models import Account, LedgerEvent, Wallet
from wallet.tests.builders import AMOUNT, withdrawal_in_state
from wallet.tests.factories import fund

from .helpers import add_entry, allow_rewriting_history, drop_constraint, paid_through_psp, reconcile, sql
from .test_runs import stuck_deposit

pytestmark = pytest.mark.django_db

FULL, INCREMENTAL = ReconciliationRun.Mode.FULL, ReconciliationRun.Mode.INCREMENTAL


@pytest.fixture(autouse=True)
def _no_clock_margin(monkeypatch):
    """The tests' rows are seconds apart: "changed since" means since the checkpoint itself, no margin."""
    monkeypatch.setattr(checkpoint, "CHANGE_MARGIN", timedelta(0))


@pytest.fixture
def player():
    return PlayerFactory()


def books_in_use(tenant=None) -> list:
    """A few players with money in every usual state: the history a checkpoint covers."""
    players = [PlayerFactory(tenant=tenant or TenantFactory()) for _ in range(2)]
    for player in players:
        for state in ("requested", "paid", "rejected", "payout_pending"):
            withdrawal_in_state(state, player=player)
        paid_through_psp(player)
    return players


def ledger_sums() -> dict[int, tuple[int, int, int]]:
    """Every wallet's (available, held, owed) ledger sums, straight from the postings (owed: minus the
    receivable account, which the ledger keeps below zero)."""
    rows = sql(
        "SELECT wallet_id, COALESCE(sum(amount) FILTER (WHERE account = 'player_available'), 0),"
        " COALESCE(sum(amount) FILTER (WHERE account = 'player_held'), 0),"
        " -COALESCE(sum(amount) FILTER (WHERE account = 'player_receivable'), 0)"
        " FROM wallet_posting WHERE wallet_id IS NOT NULL GROUP BY wallet_id"
    )
    return {wallet_id: (int(available), int(held), int(owed)) for wallet_id, available, held, owed in rows}


def totals() -> dict[int, tuple[int, int, int]]:
    return {t.wallet_id: (t.available, t.held, t.receivable) for t in WalletTotal.objects.all()}


def owing(player, amount: int = AMOUNT) -> Wallet:
    """A deposit spent on a withdrawal, then charged back: the player owes `amount` (a receivable)."""
    from wallet.services import charge_back_deposit, request_withdrawal
    from wallet.tests.builders import PSP, player_of
    from wallet.tests.factories import deposit_with

    deposit = deposit_with(player, amount)
    request_withdrawal(player=player, amount=amount, currency="EUR", actor=player_of(player))
    charge_back_deposit(deposit, actor=PSP, reason="Fraudulent transaction")
    wallet = Wallet.objects.get(pk=deposit.wallet_id)
    assert wallet.balance_receivable == amount
    return wallet


def reported(run) -> dict[str, tuple]:
    """The run's findings by key: everything a finding says but when it was seen."""
    return {
        f.key: (f.type, f.severity, f.object_type, f.object_id, f.tenant_id, f.expected, f.actual, f.detail)
        for f in Finding.objects.filter(run=run)
    }


def both_modes() -> tuple[ReconciliationRun, ReconciliationRun]:
    """An incremental run from the last checkpoint, then a full run over the same books."""
    incremental = reconcile(mode=INCREMENTAL)
    assert incremental.mode == INCREMENTAL
    full = reconcile(mode=FULL)
    return incremental, full


# --- checkpoints -------------------------------------------------------------------------------


def test_a_full_run_writes_a_checkpoint_with_every_wallets_ledger_sums():
    # given books in use
    books_in_use()
    # when every tenant is reconciled in full
    run = reconcile()
    # then the run left a checkpoint: its snapshot, the ledger marks it saw, every wallet's sums
    mark = Checkpoint.objects.get()
    assert mark.run_id == run.pk and run.stats["checkpoint"]["id"] == mark.pk
    (entries, postings) = sql("SELECT max(id) FROM wallet_journalentry UNION ALL SELECT max(id) FROM wallet_posting")
    assert (mark.entry_high, mark.posting_high) == (entries[0], postings[0])
    assert mark.entry_settled <= mark.entry_high and mark.posting_settled <= mark.posting_high
    assert mark.entry_missing == mark.posting_missing == []  # nothing was open while it ran
    assert totals() == ledger_sums() and len(totals()) == mark.wallets == Wallet.objects.count()


def test_a_full_run_carries_the_ledgers_sums_of_a_wallet_that_disagrees_not_its_balance(player):
    # given wallets whose cached balances are off, one on each account
    books_in_use()
    raised, lowered = fund(player, AMOUNT), withdrawal_in_state("requested", player=PlayerFactory()).wallet_id
    sql("UPDATE wallet_wallet SET balance_available = balance_available + 3 WHERE id = %s", [raised.pk])
    sql("UPDATE wallet_wallet SET balance_held = balance_held - 1 WHERE id = %s", [lowered])
    # when a full run checks them
    run = reconcile()
    # then it reports them, and its checkpoint carries the ledger's sums for every wallet
    assert set(reported(run)) == {
        f"wallet_available_mismatch:wallet:{raised.pk}",
        f"wallet_held_mismatch:wallet:{lowered}",
    }
    assert totals() == ledger_sums()


def test_an_incremental_run_without_a_checkpoint_runs_in_full_and_leaves_one():
    books_in_use()
    run = reconcile(mode=INCREMENTAL)
    assert (run.mode, run.stats["requested_mode"], run.stats["since_checkpoint"]) == (FULL, INCREMENTAL, None)
    assert Checkpoint.objects.get().run_id == run.pk
    assert totals() == ledger_sums()


def test_an_incremental_run_reads_only_what_changed_and_carries_the_totals_forward():
    # given a checkpoint over books in use
    tenant = TenantFactory()
    old_players = books_in_use(tenant)
    first = reconcile()
    # and, after it, new money: new players, and old players that pay and get paid
    new_players = books_in_use(tenant)
    fund(old_players[0], 7_00)
    withdrawal_in_state("paid", player=old_players[1])
    # when the next run is incremental
    run = reconcile(mode=INCREMENTAL)
    # then it started from the checkpoint, found nothing, and its own checkpoint carries every
    # wallet's sums forward: the totals at the first one plus what was posted since
    assert (run.mode, run.stats["since_checkpoint"], run.findings_count) == (INCREMENTAL, first.checkpoint.pk, 0)
    assert totals() == ledger_sums()
    touched = {w.pk for w in Wallet.objects.filter(player__in=[*new_players, *old_players])}
    assert run.checkpoint.wallets == len(touched)  # the wallets with new postings, no others
    assert set(run.stats["checks"]) == set(first.stats["checks"])


def test_receivables_are_carried_forward_by_the_checkpoints(player):
    # given a checkpoint taken while a player owes after a chargeback
    owing(player)
    reconcile()
    assert totals() == ledger_sums() and AMOUNT in {owed for _a, _h, owed in totals().values()}
    # and, after it, a deposit that repays part of what is owed
    fund(player, 10_00)
    # when the next run is incremental
    run = reconcile(mode=INCREMENTAL)
    # then the receivable carried forward plus the repayment since agree with the wallet: no finding
    assert (run.mode, run.findings_count) == (INCREMENTAL, 0)
    assert totals() == ledger_sums()
    wallet = Wallet.objects.get(player=player)
    assert totals()[wallet.pk][2] == wallet.balance_receivable == AMOUNT - 10_00


def test_an_incremental_run_reads_less_than_a_full_one():
    # given a history of 20,000 transactions checked by a full run, then 20 new ones
    from bench.bulk_load import load_books, triggers_off

    with triggers_off():
        load_books(20_000, when=timezone.now() - timedelta(days=2), settled=True)
    sql("ANALYZE")
    reconcile()
    with triggers_off():
        load_books(20)
    # when both modes run over the same books, counting the rows PostgreSQL reads
    reads = {}
    for mode in (INCREMENTAL, FULL):
        before = _tuples_read()
        run = reconcile(mode=mode, sessions=1)
        reads[mode] = _tuples_read() - before
        assert run.findings_count == 0
    # then the incremental run read a small part of what the full one did
    assert reads[INCREMENTAL] * 10 < reads[FULL], reads


def _tuples_read() -> int:
    """Rows this session has read from the ledger and transaction tables (sequential and index reads)."""
    sql("SELECT pg_stat_clear_snapshot()")
    ((count,),) = sql(
        "SELECT COALESCE(sum(seq_tup_read + idx_tup_fetch), 0) FROM pg_stat_xact_user_tables"
        " WHERE relname IN ('wallet_posting', 'wallet_journalentry', 'wallet_withdrawal', 'wallet_deposit',"
        " 'payouts_payoutattempt')"
    )
    return int(count)


def test_a_tenant_run_can_be_incremental_from_the_all_tenants_checkpoint_and_writes_none():
    # given a checkpoint over two casinos, then a wallet corrupted in each
    tenant, other = TenantFactory(), TenantFactory()
    books_in_use(tenant), books_in_use(other)
    first = reconcile()
    wallets = [fund(PlayerFactory(tenant=t), AMOUNT) for t in (tenant, other)]
    for wallet in wallets:
        sql("UPDATE wallet_wallet SET balance_available = balance_available + 1 WHERE id = %s", [wallet.pk])
    # when one casino is reconciled incrementally
    run = reconcile(tenant, mode=INCREMENTAL)
    # then it read from the all-tenants checkpoint, found its own wallet only, and left no checkpoint
    assert (run.mode, run.stats["since_checkpoint"]) == (INCREMENTAL, first.checkpoint.pk)
    assert set(reported(run)) == {f"wallet_available_mismatch:wallet:{wallets[0].pk}"}
    assert run.stats["checkpoint"] == {"id": None, "reason": "only all-tenants runs write checkpoints"}
    assert Checkpoint.objects.count() == 1


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValidationFailed):
        reconcile(mode="sometimes")
    assert not ReconciliationRun.objects.exists()


# --- the same finding in either mode ------------------------------------------------------------


def _wallet_raised(player):
    wallet = fund(player, AMOUNT)
    sql("UPDATE wallet_wallet SET balance_available = balance_available + 1 WHERE id = %s", [wallet.pk])
    return {f"wallet_available_mismatch:wallet:{wallet.pk}"}


def _held_lowered(player):
    withdrawal = withdrawal_in_state("requested", player=player)
    sql("UPDATE wallet_wallet SET balance_held = balance_held - 1 WHERE id = %s", [withdrawal.wallet_id])
    return {f"wallet_held_mismatch:wallet:{withdrawal.wallet_id}"}


def _receivable_raised(player):
    wallet = owing(player)
    sql("UPDATE wallet_wallet SET balance_receivable = balance_receivable + 1 WHERE id = %s", [wallet.pk])
    return {f"wallet_receivable_mismatch:wallet:{wallet.pk}"}


def _charged_back_without_entry(player):
    deposit = _deposit(player, "completed")
    sql("UPDATE wallet_deposit SET state = 'charged_back', updated_at = clock_timestamp() WHERE id = %s", [deposit.pk])
    return {f"ledger_event_state_mismatch:deposit:{deposit.pk}:deposit_charged_back"}


def _paid_without_entry(player):
    withdrawal = withdrawal_in_state("approved", player=player)
    sql("UPDATE wallet_withdrawal SET state = 'paid' WHERE id = %s", [withdrawal.pk])
    return {f"paid_withdrawal_event_count:withdrawal:{withdrawal.pk}:withdraw_paid"}


def _completed_without_entry(player):
    deposit = _deposit(player, "pending_provider")
    sql("UPDATE wallet_deposit SET state = 'completed', completed_at = now() WHERE id = %s", [deposit.pk])
    return {f"completed_deposit_event_count:deposit:{deposit.pk}:deposit_completed"}


def _released_on_paid(player):
    withdrawal = withdrawal_in_state("paid", player=player)
    add_entry(
        event_type=LedgerEvent.WITHDRAW_RELEASED,
        withdrawal=withdrawal,
        legs=[(Account.PSP_CLEARING, None, AMOUNT), (Account.PSP_CLEARING, None, -AMOUNT)],
    )
    return {f"ledger_event_state_mismatch:withdrawal:{withdrawal.pk}:withdraw_released"}


def _unbalanced_entry(player):
    withdrawal = withdrawal_in_state("paid", player=player)
    allow_rewriting_history("wallet_posting")
    drop_constraint("wallet_journalentry", "journal_event_once_per_withdrawal")
    entry = add_entry(
        event_type=LedgerEvent.WITHDRAW_PAID,
        withdrawal=withdrawal,
        legs=[(Account.PSP_CLEARING, None, AMOUNT), (Account.PSP_CLEARING, None, -AMOUNT + 1)],
    )
    return {
        f"unbalanced_journal_entry:journal_entry:{entry}",
        f"paid_withdrawal_event_count:withdrawal:{withdrawal.pk}:withdraw_paid",
    }


def _entry_without_postings(player):
    withdrawal = withdrawal_in_state("paid", player=player)
    drop_constraint("wallet_journalentry", "journal_event_once_per_withdrawal")
    entry = add_entry(event_type=LedgerEvent.WITHDRAW_PAID, withdrawal=withdrawal, legs=[])
    return {
        f"unbalanced_journal_entry:journal_entry:{entry}",
        f"paid_withdrawal_event_count:withdrawal:{withdrawal.pk}:withdraw_paid",
    }


def _two_successes(player):
    withdrawal, attempt = paid_through_psp(player)
    drop_constraint("payouts_payoutattempt", "payout_one_success_per_withdrawal")
    sql(
        "INSERT INTO payouts_payoutattempt (id, tenant_id, withdrawal_id, number, status, provider, provider_reference,"
        " failure_reason, dispatch_count, outcome_unknown, last_error, retryable, created_at, updated_at)"
        " VALUES (gen_random_uuid(), %s, %s, 2, 'succeeded', 'sandbox', '', '', 1, false, '', true,"
        " clock_timestamp(), clock_timestamp())",
        [withdrawal.tenant_id, withdrawal.pk],
    )
    return {f"duplicate_payout_success:withdrawal:{withdrawal.pk}"}


def _success_on_unpaid(player):
    withdrawal = withdrawal_in_state("payout_pending", player=player)
    sql("UPDATE payouts_payoutattempt SET status = 'succeeded' WHERE withdrawal_id = %s", [withdrawal.pk])
    return {f"payout_attempt_state_mismatch:withdrawal:{withdrawal.pk}"}


def _stuck_deposit(player):
    """A deposit of today, at the PSP longer than its casino allows."""
    player.tenant.policy.stuck_deposit_seconds = 60
    player.tenant.policy.save()
    deposit = _deposit(player, "pending_provider")
    sql("UPDATE wallet_deposit SET updated_at = clock_timestamp() - interval '2 minutes' WHERE id = %s", [deposit.pk])
    return {f"stuck_deposit:deposit:{deposit.pk}"}


def _stuck_payout(player):
    player.tenant.policy.stuck_payout_seconds = 60
    player.tenant.policy.save()
    withdrawal = withdrawal_in_state("payout_pending", player=player)
    sql(
        "UPDATE wallet_withdrawal SET updated_at = clock_timestamp() - interval '2 minutes' WHERE id = %s",
        [withdrawal.pk],
    )
    return {f"stuck_payout:withdrawal:{withdrawal.pk}"}


def _deposit(player, state):
    from wallet.tests.builders import deposit_in_state

    return deposit_in_state(state, player=player)


CORRUPTIONS = [
    _wallet_raised,
    _held_lowered,
    _receivable_raised,
    _charged_back_without_entry,
    _paid_without_entry,
    _completed_without_entry,
    _released_on_paid,
    _unbalanced_entry,
    _entry_without_postings,
    _two_successes,
    _success_on_unpaid,
    _stuck_deposit,
    _stuck_payout,
]
# Findings whose `actual` and `detail` hold the age at the run's time.
_AGED = {FindingType.STUCK_DEPOSIT, FindingType.STUCK_PAYOUT}


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda c: c.__name__.strip("_"))
def test_a_corruption_in_new_rows_is_the_same_finding_in_either_mode(corrupt):
    # given a checkpoint over books in use
    tenant = TenantFactory()
    books_in_use(tenant)
    reconcile()
    # and, after it, a payment corrupted behind the services' back
    expected = corrupt(PlayerFactory(tenant=tenant))
    # when the books are reconciled incrementally, then in full
    incremental, full = both_modes()
    # then both runs report exactly the planted disagreement, as the same findings
    assert set(reported(incremental)) == set(reported(full)) == expected
    for key, finding in reported(full).items():
        seen = reported(incremental)[key]
        if finding[0] in _AGED:
            assert seen[:6] == finding[:6]  # the age differs by the seconds between the two runs
        else:
            assert seen == finding


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda c: c.__name__.strip("_"))
def test_a_finding_stays_reported_by_the_incremental_runs_after_it(corrupt):
    # given a corruption found by a run that left a checkpoint
    tenant = TenantFactory()
    books_in_use(tenant)
    expected = corrupt(PlayerFactory(tenant=tenant))
    found_first = reconcile()
    assert set(reported(found_first)) == expected
    # when two nights of incremental runs follow, with nothing changed on the corrupted rows
    nights = [reconcile(mode=INCREMENTAL) for _ in range(2)]
    # then each reports it again, with the same key (an acknowledgement would carry over)
    for night in nights:
        assert night.mode == INCREMENTAL
        assert set(reported(night)) == expected


def test_a_finding_fixed_through_the_services_leaves_the_incremental_run():
    # given a deposit stuck at the PSP, found by a full run
    deposit = stuck_deposit()
    assert set(reported(reconcile())) == {f"stuck_deposit:deposit:{deposit.pk}"}
    # when the PSP's failure arrives through the services
    from wallet.services import fail_deposit

    fail_deposit(deposit, actor=checkpoint_actor())
    # then the next incremental run no longer reports it
    assert reported(reconcile(mode=INCREMENTAL)) == {}


def checkpoint_actor():
    from core.actors import Actor

    return Actor.psp("sandbox")


# --- old rows: what an incremental run cannot see -----------------------------------------------


def test_an_old_posting_rewritten_is_not_seen_by_the_incremental_run_but_by_the_next_full_run(player):
    # given a withdrawal paid and checked by a full run that left a checkpoint
    withdrawal = withdrawal_in_state("paid", player=player)
    assert reconcile().findings_count == 0
    # when one of its old postings is rewritten in place (the append-only trigger switched off)
    ((entry_id, posting_id),) = sql(
        "SELECT e.id, p.id FROM wallet_journalentry e JOIN wallet_posting p ON p.entry_id = e.id"
        " WHERE e.withdrawal_id = %s AND e.event_type = 'withdraw_requested' AND p.account = 'player_available'",
        [withdrawal.pk],
    )
    allow_rewriting_history("wallet_posting")
    sql("UPDATE wallet_posting SET amount = amount - 1 WHERE id = %s", [posting_id])
    # then the nightly incremental run does not see it: nothing it reads changed
    incremental = reconcile(mode=INCREMENTAL)
    assert incremental.mode == INCREMENTAL and reported(incremental) == {}
    # but the next full run does: the entry no longer balances and the wallet's ledger moved
    full = reconcile(mode=FULL)
    assert set(reported(full)) == {
        f"unbalanced_journal_entry:journal_entry:{entry_id}",
        f"wallet_available_mismatch:wallet:{withdrawal.wallet_id}",
    }
    # and from then on the incremental runs report them too (the full run's findings are read again)
    assert set(reported(reconcile(mode=INCREMENTAL))) == set(reported(full))


def test_an_old_withdrawal_changed_without_its_updated_at_is_seen_by_the_next_full_run(player):
    # given an approved withdrawal checked by a full run
    withdrawal = withdrawal_in_state("approved", player=player)
    reconcile()
    # when its state is set to paid in place, its updated_at left as it was
    sql("UPDATE wallet_withdrawal SET state = 'paid' WHERE id = %s", [withdrawal.pk])
    # then the incremental run does not see it, and the full run does
    assert reported(reconcile(mode=INCREMENTAL)) == {}
    assert set(reported(reconcile(mode=FULL))) == {
        f"paid_withdrawal_event_count:withdrawal:{withdrawal.pk}:withdraw_paid"
    }


def test_an_old_wallet_changed_with_its_updated_at_is_seen_by_the_incremental_run(player):
    # given a funded wallet checked by a full run
    wallet = fund(player, AMOUNT)
    reconcile()
    # when its balance is changed without a posting, but like a program would: updated_at set
    sql(
        "UPDATE wallet_wallet SET balance_available = balance_available + 5, updated_at = clock_timestamp()"
        " WHERE id = %s",
        [wallet.pk],
    )
    # then the incremental run sees it: every wallet changed since is compared
    assert set(reported(reconcile(mode=INCREMENTAL))) == {f"wallet_available_mismatch:wallet:{wallet.pk}"}


# --- how runs are asked for ---------------------------------------------------------------------


def test_the_command_takes_a_mode(capsys):
    books_in_use()
    call_command("reconcile")
    call_command("reconcile", "--mode", "incremental")
    first, second = ReconciliationRun.objects.order_by("id")
    assert (first.mode, second.mode) == (FULL, INCREMENTAL)
    assert "incremental" in capsys.readouterr().out


def test_a_run_and_its_checkpoint_are_one_transaction(monkeypatch):
    # given a run whose success cannot be recorded
    books_in_use()
    monkeypatch.setattr("reconciliation.services.record_event", _fails_on("reconciliation.run_succeeded"))
    with pytest.raises(RuntimeError):
        reconcile()
    # then it left no checkpoint and no totals
    assert not Checkpoint.objects.exists() and not WalletTotal.objects.exists()
    assert ReconciliationRun.objects.get().status == "failed"


def _fails_on(action):
    from core.audit import record_event

    def record(*args, **kwargs):
        if kwargs.get("action") == action:
            raise RuntimeError("disk full")
        return record_event(*args, **kwargs)

    return record


def test_the_boundary_reads_the_ledger_sequences():
    fund(PlayerFactory(), AMOUNT)
    start = checkpoint.boundary()
    ((entries, postings),) = sql("SELECT max(e.id), max(p.id) FROM wallet_journalentry e, wallet_posting p")
    assert (start.entry_allocated, start.posting_allocated) == (entries, postings)
    assert abs(start.taken_at - timezone.now()) < timedelta(seconds=5)
    assert connection.in_atomic_block  # (the test's transaction: nothing older is open but it)
    assert checkpoint.settle(start, wait_seconds=0)
