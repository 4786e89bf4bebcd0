"""Checks the whole database must pass after any sequence of services, and effect recorders.

assert_books_balance() proves the ledger with SQL over every row: each journal entry
sums to zero, wallets are exactly the sum of their postings, nothing is negative, and
each deposit and withdrawal has exactly the money events its state implies.
expect_no_change() and record_effects() let a test say what one call wrote.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Max

from core.models import AuditEvent
from wallet.models import (
    Deposit,
    DepositTransition,
    JournalEntry,
    PayoutAttempt,
    Posting,
    Wallet,
    Withdrawal,
    WithdrawalTransition,
)

# Which money events a transaction in each state has been through (design, section 3).
EVENTS_BY_WITHDRAWAL_STATE = {
    "requested": ["withdraw_requested"],
    "approved": ["withdraw_requested"],
    "payout_pending": ["withdraw_requested"],
    "payout_failed": ["withdraw_requested"],
    "rejected": ["withdraw_released", "withdraw_requested"],
    "canceled": ["withdraw_released", "withdraw_requested"],
    "paid": ["withdraw_paid", "withdraw_requested"],
    "returned": ["withdraw_paid", "withdraw_requested", "withdraw_returned"],
}
EVENTS_BY_DEPOSIT_STATE = {
    "created": [],
    "pending_provider": [],
    "failed": [],
    "completed": ["deposit_completed"],
    "charged_back": ["deposit_charged_back", "deposit_completed"],
    "chargeback_reversed": ["chargeback_reversed", "deposit_charged_back", "deposit_completed"],
    "charged_back_again": [
        "chargeback_reversed",
        "deposit_charged_back",
        "deposit_charged_back_again",
        "deposit_completed",
    ],
}


def _rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def assert_books_balance() -> None:
    unbalanced = _rows(
        """SELECT e.id, COUNT(p.id), SUM(p.amount) FROM wallet_journalentry e
           LEFT JOIN wallet_posting p ON p.entry_id = e.id
           GROUP BY e.id HAVING COUNT(p.id) < 2 OR SUM(p.amount) <> 0"""
    )
    assert unbalanced == [], f"journal entries that do not balance: {unbalanced}"

    misplaced = _rows(
        """SELECT p.id FROM wallet_posting p
           JOIN wallet_journalentry e ON e.id = p.entry_id
           LEFT JOIN wallet_wallet w ON w.id = p.wallet_id
           LEFT JOIN wallet_deposit d ON d.id = e.deposit_id
           LEFT JOIN wallet_withdrawal x ON x.id = e.withdrawal_id
           WHERE p.tenant_id <> e.tenant_id
              OR w.currency <> e.currency OR w.tenant_id <> e.tenant_id
              OR ABS(p.amount) > COALESCE(d.amount, x.amount)
              OR p.wallet_id <> COALESCE(d.wallet_id, x.wallet_id)"""
    )
    assert misplaced == [], f"postings inconsistent with their entry or source: {misplaced}"
    # A receivable may split one side of an event in two; each side still moves the whole amount.
    split_wrong = _rows(
        """SELECT e.id FROM wallet_journalentry e
           JOIN wallet_posting p ON p.entry_id = e.id
           LEFT JOIN wallet_deposit d ON d.id = e.deposit_id
           LEFT JOIN wallet_withdrawal x ON x.id = e.withdrawal_id
           GROUP BY e.id, d.amount, x.amount
           HAVING SUM(ABS(p.amount)) <> 2 * COALESCE(d.amount, x.amount) OR COUNT(p.id) > 3"""
    )
    assert split_wrong == [], f"journal entries that do not move their amount once: {split_wrong}"

    drifted = _rows(
        """SELECT w.id, w.balance_available, w.balance_held,
                  COALESCE(SUM(p.amount) FILTER (WHERE p.account = 'player_available'), 0),
                  COALESCE(SUM(p.amount) FILTER (WHERE p.account = 'player_held'), 0),
                  w.balance_receivable, -COALESCE(SUM(p.amount) FILTER (WHERE p.account = 'player_receivable'), 0)
           FROM wallet_wallet w LEFT JOIN wallet_posting p ON p.wallet_id = w.id
           GROUP BY w.id
           HAVING w.balance_available <> COALESCE(SUM(p.amount) FILTER (WHERE p.account = 'player_available'), 0)
               OR w.balance_held <> COALESCE(SUM(p.amount) FILTER (WHERE p.account = 'player_held'), 0)
               OR w.balance_receivable
                  <> -COALESCE(SUM(p.amount) FILTER (WHERE p.account = 'player_receivable'), 0)"""
    )
    assert drifted == [], (
        f"wallets that differ from their ledger (id, avail, held, ledger avail, ledger held): {drifted}"
    )

    negative = _rows(
        "SELECT id FROM wallet_wallet WHERE balance_available < 0 OR balance_held < 0 OR balance_receivable < 0"
    )
    assert negative == [], f"wallets below zero: {negative}"

    _assert_events_match_states("wallet_withdrawal", "withdrawal_id", EVENTS_BY_WITHDRAWAL_STATE)
    _assert_events_match_states("wallet_deposit", "deposit_id", EVENTS_BY_DEPOSIT_STATE)


def _assert_events_match_states(table: str, column: str, expected: dict[str, list[str]]) -> None:
    rows = _rows(
        f"""SELECT t.id, t.state, COALESCE(array_agg(e.event_type ORDER BY e.event_type)
                                           FILTER (WHERE e.id IS NOT NULL), '{{}}')
            FROM {table} t LEFT JOIN wallet_journalentry e ON e.{column} = t.id
            GROUP BY t.id"""  # noqa: S608 - table and column are constants of this module
    )
    wrong = [(pk, state, events) for pk, state, events in rows if list(events) != expected[state]]
    assert wrong == [], f"{table} rows whose money events do not match their state: {wrong}"


def assert_history_consistent() -> None:
    """Each history chain starts from '', links from_state to the previous to_state, ends in the state."""
    for table, history, column in (
        ("wallet_withdrawal", "wallet_withdrawaltransition", "withdrawal_id"),
        ("wallet_deposit", "wallet_deposittransition", "deposit_id"),
    ):
        broken = _rows(
            f"""SELECT id FROM (SELECT id, from_state,
                    LAG(to_state, 1, '') OVER (PARTITION BY {column} ORDER BY id) AS previous
                    FROM {history}) chain
                WHERE from_state <> previous"""  # noqa: S608
        )
        assert broken == [], f"{history} rows that do not follow the previous one: {broken}"
        stale = _rows(
            f"""SELECT t.id FROM {table} t WHERE t.state IS DISTINCT FROM
                (SELECT h.to_state FROM {history} h WHERE h.{column} = t.id ORDER BY h.id DESC LIMIT 1)"""  # noqa: S608
        )
        assert stale == [], f"{table} rows whose last history row is not their state: {stale}"


def assert_invariants() -> None:
    assert_books_balance()
    assert_history_consistent()


def world() -> dict:
    """Everything a refused call must leave alone (audit events are checked apart)."""
    return {
        "wallets": {
            pk: rest
            for pk, *rest in Wallet.objects.values_list("pk", "balance_available", "balance_held", "balance_receivable")
        },
        "deposits": {
            pk: rest for pk, *rest in Deposit.objects.values_list("pk", "state", "completed_at", "provider_reference")
        },
        "withdrawals": {pk: rest for pk, *rest in Withdrawal.objects.values_list("pk", "state", "paid_at")},
        "attempts": dict(PayoutAttempt.objects.values_list("pk", "status")),
        "journal_entries": JournalEntry.objects.count(),
        "postings": Posting.objects.count(),
        "deposit_history": DepositTransition.objects.count(),
        "withdrawal_history": WithdrawalTransition.objects.count(),
    }


def _last_id(model) -> int:
    return model.objects.aggregate(last=Max("id"))["last"] or 0


def _audit_actions_after(last_id: int) -> list[str]:
    """Sorted: the order of rows written by one statement is not part of the contract."""
    return sorted(AuditEvent.objects.filter(id__gt=last_id).values_list("action", flat=True))


@contextmanager
def expect_no_change(*, audit_actions: tuple[str, ...] = ()):
    """Nothing but the listed audit events (the documented refusal audit) may be written."""
    before, last_audit = world(), _last_id(AuditEvent)
    yield
    assert world() == before
    assert _audit_actions_after(last_audit) == sorted(audit_actions)


@dataclass
class Effects:
    ledger: list[str] = field(default_factory=list)
    history: list[tuple[str, str]] = field(default_factory=list)
    audit: list[str] = field(default_factory=list)  # sorted
    available: int = 0
    held: int = 0
    attempts: int = 0

    @property
    def is_empty(self) -> bool:
        return self == Effects()


@contextmanager
def record_effects(wallet: Wallet):
    """What one call wrote: ledger events, history rows, audit actions, the wallet's deltas."""
    marks = {model: _last_id(model) for model in (JournalEntry, DepositTransition, WithdrawalTransition, AuditEvent)}
    wallet.refresh_from_db()
    available, held, attempts = wallet.balance_available, wallet.balance_held, PayoutAttempt.objects.count()
    effects = Effects()
    yield effects
    wallet.refresh_from_db()
    effects.ledger = list(
        JournalEntry.objects.filter(id__gt=marks[JournalEntry]).order_by("id").values_list("event_type", flat=True)
    )
    for model in (DepositTransition, WithdrawalTransition):
        rows = model.objects.filter(id__gt=marks[model]).order_by("id").values_list("from_state", "to_state")
        effects.history += [tuple(row) for row in rows]
    effects.audit = _audit_actions_after(marks[AuditEvent])
    effects.available = wallet.balance_available - available
    effects.held = wallet.balance_held - held
    effects.attempts = PayoutAttempt.objects.count() - attempts
