"""The invariant checks: set-based SQL, a fixed number of statements each, in two modes.

A full run (Scope.since is None): every check reads all the rows it concerns (or one
tenant's share of them) in one statement (the ledger events and journal checks: a
screen and a detail statement for what disagrees) and returns only the rows that
disagree, so the work is PostgreSQL's and the Python side touches findings alone.
Aggregates are ordered by their key where an index gives that order, so PostgreSQL
streams them instead of hashing millions of groups, and streams are joined in key
order (services.session_settings): the time grows linearly with the history.

An incremental run (Scope.since: the last checkpoint, reconciliation.checkpoint)
reads what changed since: ledger rows new since by index ranges on their ids,
transactions and wallets changed since by their `updated_at`, and the objects of the
checkpoint's findings; each changed object is looked up by index (one_by_one), so the
time grows with the changes, not with the history. Both modes give the same finding
for the same disagreement in what they read.

The expectations are derived from the tables the services follow:
`wallet.ledger.BALANCE_EFFECTS` (legs of each money event) and EVENTS_BY_STATE below
(docs/state-machine.md). The checks are run by reconciliation.services inside one
REPEATABLE READ, READ ONLY transaction, so they all see the same snapshot of the books. They read through
`core.replica.reading_connection()`: the server the run's snapshot is on (the replica, or
the primary), never one statement here and another there.
"""

import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connections, transaction

from core import replica
from core.money import format_amount
from reconciliation.models import FindingType, Severity
from tenants.models import PaymentPolicy
from wallet.ledger import BALANCE_EFFECTS
from wallet.models import Account, DepositState, LedgerEvent, WithdrawalState

SEVERITY: dict[str, str] = {
    FindingType.PAID_WITHDRAWAL_EVENT_COUNT: Severity.CRITICAL,
    FindingType.COMPLETED_DEPOSIT_EVENT_COUNT: Severity.CRITICAL,
    FindingType.LEDGER_EVENT_STATE_MISMATCH: Severity.HIGH,
    FindingType.WALLET_AVAILABLE_MISMATCH: Severity.CRITICAL,
    FindingType.WALLET_HELD_MISMATCH: Severity.CRITICAL,
    FindingType.WALLET_RECEIVABLE_MISMATCH: Severity.CRITICAL,
    FindingType.UNBALANCED_JOURNAL_ENTRY: Severity.CRITICAL,
    FindingType.DUPLICATE_PAYOUT_SUCCESS: Severity.CRITICAL,
    FindingType.PAYOUT_ATTEMPT_STATE_MISMATCH: Severity.HIGH,
    FindingType.STUCK_PAYOUT: Severity.MEDIUM,
    FindingType.STUCK_DEPOSIT: Severity.MEDIUM,
    FindingType.SETTLEMENT_MISSING_IN_PRODUCT: Severity.HIGH,
    FindingType.SETTLEMENT_MISSING_AT_PSP: Severity.HIGH,
    FindingType.SETTLEMENT_AMOUNT_MISMATCH: Severity.CRITICAL,
    FindingType.SETTLEMENT_CURRENCY_MISMATCH: Severity.CRITICAL,
    FindingType.SETTLEMENT_STATE_MISMATCH: Severity.HIGH,
    FindingType.SETTLEMENT_REPORT_UNAVAILABLE: Severity.MEDIUM,
}

# Deposits whose money was credited once (later disputes leave their deposit_completed in place).
_CREDITED = (
    DepositState.COMPLETED,
    DepositState.CHARGED_BACK,
    DepositState.CHARGEBACK_REVERSED,
    DepositState.CHARGED_BACK_AGAIN,
)
_REVERSED = (DepositState.CHARGEBACK_REVERSED, DepositState.CHARGED_BACK_AGAIN)
# Withdrawals that were paid out once (a bank's later return leaves its withdraw_paid in place).
_PAID_OUT = (WithdrawalState.PAID, WithdrawalState.RETURNED)
# How many of each money event a transaction in each state has been through.
EVENTS_BY_STATE: dict[str, dict[str, dict[str, int]]] = {
    "withdrawal": {
        state: {
            LedgerEvent.WITHDRAW_REQUESTED: 1,
            LedgerEvent.WITHDRAW_RELEASED: int(state in (WithdrawalState.REJECTED, WithdrawalState.CANCELED)),
            LedgerEvent.WITHDRAW_PAID: int(state in _PAID_OUT),
            LedgerEvent.WITHDRAW_RETURNED: int(state == WithdrawalState.RETURNED),
        }
        for state in WithdrawalState.values
    },
    "deposit": {
        state: {
            LedgerEvent.DEPOSIT_COMPLETED: int(state in _CREDITED),
            LedgerEvent.DEPOSIT_CHARGED_BACK: int(state in (DepositState.CHARGED_BACK, *_REVERSED)),
            LedgerEvent.CHARGEBACK_REVERSED: int(state in _REVERSED),
            LedgerEvent.DEPOSIT_CHARGED_BACK_AGAIN: int(state == DepositState.CHARGED_BACK_AGAIN),
        }
        for state in DepositState.values
    },
}
# The state whose one event has a finding type of its own (design, section 10).
_HEADLINE = {
    ("withdrawal", WithdrawalState.PAID, LedgerEvent.WITHDRAW_PAID): FindingType.PAID_WITHDRAWAL_EVENT_COUNT,
    ("deposit", DepositState.COMPLETED, LedgerEvent.DEPOSIT_COMPLETED): FindingType.COMPLETED_DEPOSIT_EVENT_COUNT,
}
OTHER_EVENTS = "other"  # money events of the wrong kind of source (e.g. deposit_completed on a withdrawal)


@dataclass(frozen=True)
class Since:
    """Where an incremental run starts: the last checkpoint (reconciliation.checkpoint) and what to look at again.

    New ledger rows are those above the highest id the checkpoint's snapshot saw, and
    the ids below it that the snapshot did not see (`*_missing`: their transactions
    were still open, having taken their ids before others that had committed); rows
    changed since have `updated_at >= changed_since`; `recheck` holds the objects of the
    checkpoint run's findings by object type, so a disagreement stays reported until
    it is fixed.
    """

    checkpoint_id: int
    entry_high: int
    entry_missing: tuple[int, ...]
    posting_high: int
    posting_missing: tuple[int, ...]
    changed_since: datetime
    recheck: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def params(self) -> dict:
        return {
            "since_entry_high": self.entry_high,
            "since_entry_missing": list(self.entry_missing),
            "since_posting_high": self.posting_high,
            "since_posting_missing": list(self.posting_missing),
            "since_changed": self.changed_since,
            "since_attempt": uuid7_floor(self.changed_since),
            **{f"recheck_{kind}": list(self.recheck.get(kind, ())) for kind in RECHECKED},
        }


# Object types whose findings an incremental run looks at again, and the SQL type of their ids.
RECHECKED = {"withdrawal": "uuid", "deposit": "uuid", "wallet": "bigint", "journal_entry": "bigint"}


def uuid7_floor(moment: datetime) -> uuid.UUID:
    """The smallest version-7 UUID of `moment`'s millisecond: ids at or above it were made then or later."""
    millis = int(moment.timestamp() * 1000)
    return uuid.UUID(int=(millis & ((1 << 48) - 1)) << 80)


@dataclass(frozen=True)
class Scope:
    """What a run looks at: one tenant or all (None), the time stuck checks measure from, and since when.

    `since` is None for a full run (every row); an incremental run reads only what
    changed after its checkpoint.
    """

    tenant_id: int | None
    as_of: datetime
    since: Since | None = None

    def only(self, alias: str) -> str:
        """`AND alias.tenant_id = %(tenant)s` for a one-tenant run, nothing otherwise."""
        return f" AND {alias}.tenant_id = %(tenant)s" if self.tenant_id is not None else ""

    @property
    def params(self) -> dict:
        return {"tenant": self.tenant_id, "as_of": self.as_of, **(self.since.params if self.since else {})}

    @property
    def incremental(self) -> bool:
        return self.since is not None


def new_rows(alias: str, kind: str, since: Since) -> str:
    """SQL: the row `alias` of the ledger table `kind` ('entry' or 'posting') is new since the checkpoint."""
    return is_new(f"{alias}.id", kind, since)


def is_new(id_sql: str, kind: str, since: Since) -> str:
    """SQL: the ledger id `id_sql` of `kind` ('entry' or 'posting') is new since the checkpoint.

    Above the highest id its snapshot saw, or one of the few ids below that it did not
    see (usually none): index lookups on the primary key. Needs Since.params.
    """
    if not getattr(since, f"{kind}_missing"):
        return f"{id_sql} > %(since_{kind}_high)s"
    return f"({id_sql} > %(since_{kind}_high)s OR {id_sql} = ANY(%(since_{kind}_missing)s::bigint[]))"


def one_by_one(sql: str) -> str:
    """A LATERAL subquery kept apart from the query around it (OFFSET 0), so it runs once per outer row by index.

    An incremental run looks up each changed object instead of joining whole tables:
    its cost follows the changes, whatever the size of the history, and whatever the
    planner estimates.
    """
    return f"LATERAL ({sql} OFFSET 0)"


def recheck(kind: str) -> str:
    """SQL: the ids of `kind` objects of the checkpoint run's findings."""
    return f"SELECT unnest(%(recheck_{kind})s::{RECHECKED[kind]}[])"


@dataclass
class Found:
    """One finding before it is stored."""

    type: str
    tenant_id: int | None
    object_type: str
    object_id: str
    expected: object = None
    actual: object = None
    detail: dict = field(default_factory=dict)
    key_suffix: str = ""

    @property
    def severity(self) -> str:
        return SEVERITY[self.type]

    @property
    def key(self) -> str:
        key = f"{self.type}:{self.object_type}:{self.object_id}"
        return f"{key}:{self.key_suffix}" if self.key_suffix else key


@dataclass
class CheckResult:
    name: str
    findings: list[Found]
    seconds: float
    statements: int = 0
    totals: "Totals | None" = None  # what ledger_totals read for the checkpoint


def rows(sql: str, params: dict) -> list[tuple]:
    with replica.reading_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def money(amount: int | None, currency: str) -> str | None:
    return None if amount is None else f"{format_amount(amount, currency)} {currency}"


def _in(values: Iterable[str]) -> str:
    """An SQL list of constants of this module (states, event types): never user input."""
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


# --- ledger against transaction states ---------------------------------------------------------


def _events_sql(kind: str, scope: Scope) -> str:
    """Per transaction: its entries as a count and a code of event types, against its state's.

    Each entry adds its event's weight to the code (1, 1024, 1024**2, ... in the order of
    EVENTS_BY_STATE; any other event the last weight): exactly the expected entries
    <=> the code and the count equal the state's (more than 1023 entries of one event
    would carry into the next weight, but could not keep the count too). Two aggregates
    per entry, however many event types. The aggregate is ordered by transaction id so
    PostgreSQL streams it from the (source, event) unique index instead of hashing a
    million groups. Incremental: only the transactions changed since the checkpoint,
    those that got a new entry, and those of its findings, each looked up by index.
    Returns the transactions that disagree; _event_counts says with which events.
    """
    table, column = f"wallet_{kind}", f"{kind}_id"
    events = _events_of(kind)
    weights = " ".join(f"WHEN '{event}' THEN {_WEIGHT**n}" for n, event in enumerate(events))
    aggregates = f"count(*) AS n, sum(CASE e.event_type {weights} ELSE {_WEIGHT ** len(events)} END) AS code"
    codes = " ".join(f"WHEN '{state}' THEN {_code(kind, state)}" for state in EVENTS_BY_STATE[kind])
    sizes = " ".join(f"WHEN '{state}' THEN {sum(n.values())}" for state, n in EVENTS_BY_STATE[kind].items())
    if scope.incremental:
        ev = f"""
            WITH touched AS (
                SELECT t.id FROM {table} t WHERE t.updated_at >= %(since_changed)s{scope.only("t")}
                UNION SELECT e.{column} FROM wallet_journalentry e
                      WHERE {new_rows("e", "entry", scope.since)} AND e.{column} IS NOT NULL{scope.only("e")}
                UNION {recheck(kind)}
            )"""
        rows_from = f"""touched x
            CROSS JOIN {one_by_one(f"SELECT * FROM {table} t WHERE t.id = x.id")} t
            CROSS JOIN {one_by_one(f"SELECT {aggregates} FROM wallet_journalentry e WHERE e.{column} = t.id")} ev"""
    else:
        ev = f"""
            WITH ev AS (
                SELECT e.{column} AS id, {aggregates}
                FROM wallet_journalentry e
                WHERE e.{column} IS NOT NULL{scope.only("e")}
                GROUP BY e.{column}
                ORDER BY e.{column}
            )"""
        rows_from = f"{table} t LEFT JOIN ev ON ev.id = t.id"
    return f"""
        {ev}
        SELECT t.id, t.tenant_id, t.state, t.amount, t.currency
        FROM {rows_from}
        WHERE (COALESCE(ev.code, 0) <> (CASE t.state {codes} ELSE 0 END)
               OR COALESCE(ev.n, 0) <> (CASE t.state {sizes} ELSE 0 END)){scope.only("t")}
    """


_WEIGHT = 1024  # a code's base: the entries of one event type count up to 1023 in their own digit


def _event_counts(kind: str, ids: list) -> dict:
    """{transaction id: {event or OTHER_EVENTS: entries}} of the transactions that disagree; one statement."""
    column, events = f"{kind}_id", _events_of(kind)
    counts: dict = {pk: dict.fromkeys([*events, OTHER_EVENTS], 0) for pk in ids}
    for pk, event, count in rows(
        f"SELECT e.{column}, e.event_type, count(*) FROM wallet_journalentry e"
        f" WHERE e.{column} = ANY(%(ids)s) GROUP BY 1, 2",
        {"ids": list(ids)},
    ):
        counts[pk][event if event in events else OTHER_EVENTS] += count
    return counts


def _events_of(kind: str) -> list[str]:
    return list(next(iter(EVENTS_BY_STATE[kind].values())))


def _code(kind: str, state: str) -> int:
    expected = EVENTS_BY_STATE[kind][state]
    assert set(expected.values()) <= {0, 1}, "each money event happens at most once per transaction"
    return sum(_WEIGHT**n for n, event in enumerate(_events_of(kind)) if expected[event])


def _events_findings(kind: str, scope: Scope) -> list[Found]:
    events = _events_of(kind)
    nothing = dict.fromkeys(events, 0)  # a state the machine does not know has no money events
    disagree = rows(_events_sql(kind, scope), scope.params)
    counts = _event_counts(kind, [pk for pk, *_ in disagree])
    found = []
    for pk, tenant_id, state, amount, currency in disagree:
        expected_by_event = {**EVENTS_BY_STATE[kind].get(state, nothing), OTHER_EVENTS: 0}
        for event, count in counts[pk].items():
            if count == expected_by_event[event]:
                continue
            found.append(
                Found(
                    type=_HEADLINE.get((kind, state, event), FindingType.LEDGER_EVENT_STATE_MISMATCH),
                    tenant_id=tenant_id,
                    object_type=kind,
                    object_id=str(pk),
                    expected=expected_by_event[event],
                    actual=count,
                    detail={
                        "transaction_id": str(pk),
                        "state": state,
                        "event_type": event,
                        "amount": money(amount, currency),
                    },
                    key_suffix=event,
                )
            )
    return found


def withdrawal_ledger_events(scope: Scope) -> list[Found]:
    """Each withdrawal has exactly the money events its state implies, and no others."""
    return _events_findings("withdrawal", scope)


def deposit_ledger_events(scope: Scope) -> list[Found]:
    """Each deposit has exactly the money events its state implies, and no others."""
    return _events_findings("deposit", scope)


# --- ledger against itself and the wallet cache ------------------------------------------------


_SUMS = (
    f"COALESCE(sum(p.amount) FILTER (WHERE p.account = '{Account.PLAYER_AVAILABLE}'), 0)::bigint AS available,"
    f" COALESCE(sum(p.amount) FILTER (WHERE p.account = '{Account.PLAYER_HELD}'), 0)::bigint AS held,"
    # The receivable sits below zero in the ledger (what the player owes); the wallet keeps it above zero.
    f" (-COALESCE(sum(p.amount) FILTER (WHERE p.account = '{Account.PLAYER_RECEIVABLE}'), 0))::bigint AS owed"
)


_TOTAL_OF = "SELECT c.available, c.held, c.receivable FROM reconciliation_wallettotal c WHERE c.wallet_id = {wallet}"


def _delta_sql(scope: Scope) -> str:
    """CTE `delta`: per wallet, the sums of its postings new since the checkpoint."""
    return f"""
        delta AS (
            SELECT p.wallet_id, {_SUMS}
            FROM wallet_posting p
            WHERE {new_rows("p", "posting", scope.since)} AND p.wallet_id IS NOT NULL{scope.only("p")}
            GROUP BY p.wallet_id
        )"""


def wallet_balances(scope: Scope) -> list[Found]:
    """Each wallet's available, held and receivable balances equal the sums of their postings.

    Incremental: the sums at the checkpoint (WalletTotal) plus the postings since, for
    each wallet with a new posting, a change since (its updated_at: one pass over the
    wallet table, which grows with the players, not with the history), or a finding
    at the checkpoint.
    """
    if scope.incremental:
        sql = f"""
            WITH {_delta_sql(scope)},
            touched AS MATERIALIZED (
                SELECT w.id, w.tenant_id, w.player_id, w.currency, w.balance_available, w.balance_held,
                       w.balance_receivable, d.available AS new_available, d.held AS new_held, d.owed AS new_owed
                FROM wallet_wallet w LEFT JOIN delta d ON d.wallet_id = w.id
                WHERE (d.wallet_id IS NOT NULL OR w.updated_at >= %(since_changed)s
                       OR w.id = ANY(%(recheck_wallet)s::bigint[])){scope.only("w")}
            )
            SELECT x.id, x.tenant_id, x.player_id, x.currency,
                   x.balance_available, COALESCE(c.available, 0) + COALESCE(x.new_available, 0),
                   x.balance_held, COALESCE(c.held, 0) + COALESCE(x.new_held, 0),
                   x.balance_receivable, COALESCE(c.receivable, 0) + COALESCE(x.new_owed, 0)
            FROM touched x LEFT JOIN {one_by_one(_TOTAL_OF.format(wallet="x.id"))} c ON TRUE
            WHERE x.balance_available <> COALESCE(c.available, 0) + COALESCE(x.new_available, 0)
                  OR x.balance_held <> COALESCE(c.held, 0) + COALESCE(x.new_held, 0)
                  OR x.balance_receivable <> COALESCE(c.receivable, 0) + COALESCE(x.new_owed, 0)
        """
    else:
        sql = f"""
            WITH ledger AS (
                SELECT p.wallet_id, {_SUMS}
                FROM wallet_posting p
                WHERE p.wallet_id IS NOT NULL{scope.only("p")}
                GROUP BY p.wallet_id
            )
            SELECT w.id, w.tenant_id, w.player_id, w.currency, w.balance_available, COALESCE(l.available, 0),
                   w.balance_held, COALESCE(l.held, 0), w.balance_receivable, COALESCE(l.owed, 0)
            FROM wallet_wallet w LEFT JOIN ledger l ON l.wallet_id = w.id
            WHERE (w.balance_available <> COALESCE(l.available, 0)
                   OR w.balance_held <> COALESCE(l.held, 0)
                   OR w.balance_receivable <> COALESCE(l.owed, 0)){scope.only("w")}
        """
    found = []
    for pk, tenant_id, player_id, currency, *balances in rows(sql, scope.params):
        available, ledger_available, held, ledger_held, owed, ledger_owed = balances
        for kind, actual, expected, account in (
            (FindingType.WALLET_AVAILABLE_MISMATCH, available, ledger_available, Account.PLAYER_AVAILABLE),
            (FindingType.WALLET_HELD_MISMATCH, held, ledger_held, Account.PLAYER_HELD),
            (FindingType.WALLET_RECEIVABLE_MISMATCH, owed, ledger_owed, Account.PLAYER_RECEIVABLE),
        ):
            if actual == expected:
                continue
            found.append(
                Found(
                    type=kind,
                    tenant_id=tenant_id,
                    object_type="wallet",
                    object_id=str(pk),
                    expected=expected,
                    actual=actual,
                    detail={
                        "account": str(account),
                        "currency": currency,
                        "player_id": player_id,
                        "difference": actual - expected,
                        "expected_display": money(expected, currency),
                        "actual_display": money(actual, currency),
                    },
                )
            )
    return found


def ledger_totals(scope: Scope) -> "Totals":
    """Each wallet's ledger sums at this snapshot, for the checkpoint the run writes (no findings).

    Full: every wallet's balances, which wallet_balances proves equal to its ledger sums
    in this same snapshot; the checkpoint takes the ledger's sums from its findings for
    the wallets that differ (Totals.corrected), so the postings are summed once, by the
    check. Incremental: the sums at the checkpoint plus the postings since, for the
    wallets with new postings (the others keep theirs). Streamed out by COPY in binary
    form and written back unread (reconciliation.checkpoint): no Python touches a row,
    and the snapshot may be a replica's.
    """
    if scope.incremental:
        sql = f"""
            WITH {_delta_sql(scope)}
            SELECT d.wallet_id, COALESCE(c.available, 0) + d.available, COALESCE(c.held, 0) + d.held,
                   COALESCE(c.receivable, 0) + d.owed
            FROM delta d LEFT JOIN {one_by_one(_TOTAL_OF.format(wallet="d.wallet_id"))} c ON TRUE
        """
    else:
        sql = (
            "SELECT w.id, w.balance_available, w.balance_held, w.balance_receivable"
            f" FROM wallet_wallet w WHERE TRUE{scope.only('w')}"
        )
    db = replica.reading_connection()
    query = db.ops.compose_sql(sql, scope.params)  # COPY takes no parameters
    with db.cursor() as cursor:
        data = bytearray()
        with cursor.cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy:
            for block in copy:
                data += block
    return Totals(bytes(data), replace=not scope.incremental, from_balances=not scope.incremental)


@dataclass
class Totals:
    """Wallet ledger sums in PostgreSQL's binary COPY format: (wallet_id, available, held, receivable) rows.

    `from_balances`: the rows are the wallets' balances, to be corrected by the
    wallet_balances findings of the same snapshot (their `expected` is the ledger's sum).
    """

    data: bytes
    replace: bool  # every wallet (a full run), or only those that changed
    from_balances: bool = False

    @staticmethod
    def corrections(findings: list[Found]) -> dict[int, dict[str, int]]:
        """{wallet id: {"available", "held" or "receivable": ledger sum}} from wallet_balances findings."""
        accounts = {
            FindingType.WALLET_AVAILABLE_MISMATCH: "available",
            FindingType.WALLET_HELD_MISMATCH: "held",
            FindingType.WALLET_RECEIVABLE_MISMATCH: "receivable",
        }
        fixed: dict[int, dict[str, int]] = {}
        for found in findings:
            if found.type in accounts:
                fixed.setdefault(int(found.object_id), {})[accounts[found.type]] = found.expected
        return fixed


_LEGS_OF = (
    "SELECT count(*) AS legs, min(p.amount) AS lo, max(p.amount) AS hi FROM wallet_posting p WHERE p.entry_id = {entry}"
)

if {len(legs) for legs in BALANCE_EFFECTS.values()} != {2}:
    raise RuntimeError("journal_entries() screens balance as min + max = 0, which needs two legs per money event")
# The receivable (wallet.ledger) can add a third posting to an entry; the screen passes those to the
# detail statement, which keeps only the ones whose postings really do not sum to zero.
MAX_LEGS = 3


def journal_entries(scope: Scope) -> list[Found]:
    """Each journal entry has two postings (one per account its event moves) that sum to zero.

    Two statements, whatever the number of rows. The first streams the postings in
    entry order (the entry_id index) and keeps only the ids of entries whose legs are
    not two or do not cancel (for two legs, sum = 0 <=> min + max = 0, and neither
    needs a numeric sum per entry); it also counts the entries that have postings, so
    entries with none are noticed by comparing with the journal's count (postings
    reference entries through a foreign key). The second reads the details of those
    entries only, and looks for entries without postings only when there are some.
    """
    screen = f"""
        SELECT (SELECT count(*) FROM wallet_journalentry e WHERE TRUE{scope.only("e")}) - count(*),
               COALESCE(array_agg(l.entry_id) FILTER (WHERE l.legs <> 2 OR l.lo + l.hi <> 0), '{{}}')
        FROM (
            SELECT p.entry_id, count(*) AS legs, min(p.amount) AS lo, max(p.amount) AS hi
            FROM wallet_posting p
            WHERE TRUE{scope.only("p")}
            GROUP BY p.entry_id
            ORDER BY p.entry_id
        ) l
    """
    if since := scope.since:
        # A new entry's postings are all new (written with it): their aggregate over the new
        # postings is the whole of them. Old entries with a new posting and the findings'
        # entries are looked up one by one.
        screen = f"""
            WITH legs AS (
                SELECT p.entry_id, count(*) AS legs, min(p.amount) AS lo, max(p.amount) AS hi
                FROM wallet_posting p
                WHERE {new_rows("p", "posting", since)}{scope.only("p")}
                GROUP BY p.entry_id
            ),
            older AS (
                SELECT l.entry_id AS id FROM legs l WHERE NOT {is_new("l.entry_id", "entry", since)}
                UNION {recheck("journal_entry")}
            )
            SELECT 0, COALESCE(array_agg(id), '{{}}') FROM (
                SELECT e.id FROM wallet_journalentry e LEFT JOIN legs l ON l.entry_id = e.id
                WHERE {new_rows("e", "entry", since)}{scope.only("e")}
                      AND (l.entry_id IS NULL OR l.legs <> 2 OR l.lo + l.hi <> 0)
                UNION
                SELECT x.id FROM older x
                CROSS JOIN {one_by_one("SELECT e.tenant_id FROM wallet_journalentry e WHERE e.id = x.id")} e
                CROSS JOIN {one_by_one(_LEGS_OF.format(entry="x.id"))} l
                WHERE (l.legs <> 2 OR l.lo + l.hi <> 0){scope.only("e")}
            ) bad
        """
    ((without_postings, bad_ids),) = rows(screen, scope.params)
    no_postings = " OR NOT EXISTS (SELECT 1 FROM wallet_posting p WHERE p.entry_id = e.id)" if without_postings else ""
    details = f"""
        SELECT * FROM (
            SELECT e.id, e.tenant_id, e.currency, e.event_type,
                   COALESCE(e.deposit_id, e.withdrawal_id, e.game_transaction_id),
                   COALESCE((SELECT sum(p.amount) FROM wallet_posting p WHERE p.entry_id = e.id), 0)::bigint AS total,
                   (SELECT count(*) FROM wallet_posting p WHERE p.entry_id = e.id) AS legs
            FROM wallet_journalentry e
            WHERE (e.id = ANY(%(bad)s){no_postings}){scope.only("e")}
        ) d
        WHERE d.total <> 0 OR d.legs < 2 OR d.legs > {MAX_LEGS}
    """
    return [
        Found(
            type=FindingType.UNBALANCED_JOURNAL_ENTRY,
            tenant_id=tenant_id,
            object_type="journal_entry",
            object_id=str(pk),
            expected={"sum": 0, "postings": len(BALANCE_EFFECTS.get(event_type, ())) or 2},
            actual={"sum": total, "postings": legs},
            detail={
                "event_type": event_type,
                "currency": currency,
                "transaction_id": str(source_id),
                "imbalance_display": money(total, currency),
            },
        )
        for pk, tenant_id, currency, event_type, source_id, total, legs in rows(
            details, {**scope.params, "bad": list(bad_ids)}
        )
    ]


# --- payouts -----------------------------------------------------------------------------------


_SUCCEEDED_IDS = """ARRAY(SELECT s.id::text FROM payouts_payoutattempt s
                     WHERE s.withdrawal_id = w.id AND s.status = 'succeeded' ORDER BY s.number)"""
# One withdrawal's attempts; NULLs when it has none, as an outer join would give.
_ATTEMPTS_OF = """SELECT NULLIF(count(*), 0) AS total,
                  CASE WHEN count(*) > 0 THEN count(*) FILTER (WHERE a.status = 'succeeded') END AS succeeded,
                  CASE WHEN count(*) > 0 THEN count(*) FILTER (WHERE a.status = 'pending') END AS pending
                  FROM payouts_payoutattempt a WHERE a.withdrawal_id = w.id"""


def payout_attempts(scope: Scope) -> list[Found]:
    """At most one attempt per withdrawal succeeds, and the withdrawal's state agrees with its attempts.

    A returned withdrawal was paid: its one succeeded attempt stays succeeded (a paid one marked by
    hand has none, and nothing can return it).
    """
    paid, pending = WithdrawalState.PAID, WithdrawalState.PAYOUT_PENDING
    paid_out = _in(_PAID_OUT)
    if scope.incremental:
        # An attempt's status moves only with its withdrawal (the payout transitions), so the
        # withdrawals changed since cover the attempts changed since; attempts made since
        # (ids are time-ordered UUIDs) and the findings' withdrawals are added. A withdrawal
        # without attempts gets NULLs, as the full run's outer join gives it.
        sql = f"""
        WITH touched AS (
            SELECT w.id FROM wallet_withdrawal w WHERE w.updated_at >= %(since_changed)s{scope.only("w")}
            UNION SELECT a.withdrawal_id FROM payouts_payoutattempt a WHERE a.id >= %(since_attempt)s{scope.only("a")}
            UNION {recheck("withdrawal")}
        )
        SELECT w.id, w.tenant_id, w.state, w.amount, w.currency, COALESCE(a.total, 0), COALESCE(a.succeeded, 0),
               COALESCE(a.pending, 0), {_SUCCEEDED_IDS}
        FROM touched x
        CROSS JOIN {one_by_one("SELECT * FROM wallet_withdrawal w WHERE w.id = x.id")} w
        CROSS JOIN {one_by_one(_ATTEMPTS_OF)} a
        """
    else:
        sql = f"""
        WITH attempts AS (
            SELECT a.withdrawal_id, count(*) AS total,
                   count(*) FILTER (WHERE a.status = 'succeeded') AS succeeded,
                   count(*) FILTER (WHERE a.status = 'pending') AS pending
            FROM payouts_payoutattempt a
            WHERE TRUE{scope.only("a")}
            GROUP BY a.withdrawal_id
            ORDER BY a.withdrawal_id
        )
        SELECT w.id, w.tenant_id, w.state, w.amount, w.currency, COALESCE(a.total, 0), COALESCE(a.succeeded, 0),
               COALESCE(a.pending, 0), {_SUCCEEDED_IDS}
        FROM wallet_withdrawal w LEFT JOIN attempts a ON a.withdrawal_id = w.id
        """
    sql += f"""
        WHERE (a.succeeded > 1
               OR (a.succeeded = 1 AND w.state NOT IN {paid_out})
               OR (w.state = '{WithdrawalState.RETURNED}' AND COALESCE(a.succeeded, 0) = 0)
               OR (w.state = '{paid}' AND a.succeeded = 0)
               OR (a.pending > 0 AND w.state <> '{pending}')
               OR (w.state = '{pending}' AND COALESCE(a.pending, 0) = 0)){scope.only("w")}
    """
    found = []
    for pk, tenant_id, state, amount, currency, total, succeeded, pending_count, succeeded_ids in rows(
        sql, scope.params
    ):
        detail = {
            "transaction_id": str(pk),
            "state": state,
            "attempts": total,
            "succeeded_attempts": succeeded_ids or [],
            "amount": money(amount, currency),
        }
        if succeeded > 1:
            found.append(
                Found(FindingType.DUPLICATE_PAYOUT_SUCCESS, tenant_id, "withdrawal", str(pk), 1, succeeded, detail)
            )
            continue
        if succeeded == 1 and state not in _PAID_OUT:
            expected, actual = {"state": str(paid)}, {"state": state, "succeeded_attempts": 1}
        elif state in _PAID_OUT and succeeded == 0:
            expected, actual = {"succeeded_attempts": 1}, {"state": state, "succeeded_attempts": 0}
        elif pending_count and state != pending:
            expected, actual = {"pending_attempts": 0}, {"state": state, "pending_attempts": pending_count}
        else:
            expected, actual = {"pending_attempts": 1}, {"state": state, "pending_attempts": pending_count}
        found.append(
            Found(FindingType.PAYOUT_ATTEMPT_STATE_MISMATCH, tenant_id, "withdrawal", str(pk), expected, actual, detail)
        )
    return found


def _default(field_name: str) -> int:
    return PaymentPolicy._meta.get_field(field_name).default


def _stuck_candidates(scope: Scope, table_alias: str, threshold: str, kind: str, states) -> str:
    """SQL for an incremental run: the open rows that may have become stuck since the checkpoint, as `table alias`.

    What has become stuck since last changed after the checkpoint less the longest
    threshold; what was stuck then is among the checkpoint's findings; a tenant whose
    policy changed since (a threshold lowered) has all its open rows looked at. Each
    by an index: the rows' last change (updated_at), the tenant's open rows (tenant,
    state), the findings' primary keys.
    """
    table, alias = table_alias.split()
    select = f"SELECT t.id, t.tenant_id, t.state, t.amount, t.currency, t.updated_at FROM {table} t"
    return f"""(
        {select}
        WHERE t.updated_at >= %(since_changed)s - make_interval(secs => (
                  SELECT GREATEST(max(p.{threshold}), {_default(threshold)}) FROM tenants_paymentpolicy p))
              AND t.state IN {_in(states)}{scope.only("t")}
        UNION SELECT t.* FROM tenants_paymentpolicy p
              CROSS JOIN {one_by_one(f"{select} WHERE t.tenant_id = p.tenant_id AND t.state IN {_in(states)}")} t
              WHERE p.updated_at >= %(since_changed)s{scope.only("p")}
        UNION {select} WHERE t.id = ANY(%(recheck_{kind})s::uuid[])
    ) {alias}"""


def stuck_transactions(scope: Scope) -> list[Found]:
    """Payouts pending, and deposits neither completed nor failed, for longer than the tenant allows.

    Age is the time since the row last changed (`updated_at`): when the withdrawal
    entered payout_pending, or the deposit was created or handed to the PSP.
    """
    open_deposit = (DepositState.CREATED, DepositState.PENDING_PROVIDER)
    pending = WithdrawalState.PAYOUT_PENDING
    payout_default, deposit_default = _default("stuck_payout_seconds"), _default("stuck_deposit_seconds")
    withdrawals, deposits = "wallet_withdrawal w", "wallet_deposit d"
    if scope.incremental:
        withdrawals = _stuck_candidates(scope, "wallet_withdrawal w", "stuck_payout_seconds", "withdrawal", [pending])
        deposits = _stuck_candidates(scope, "wallet_deposit d", "stuck_deposit_seconds", "deposit", open_deposit)
    sql = f"""
        SELECT 'withdrawal', x.id, x.tenant_id, x.state, x.amount, x.currency, x.updated_at, x.threshold
        FROM (
            SELECT w.id, w.tenant_id, w.state, w.amount, w.currency, w.updated_at,
                   COALESCE(pp.stuck_payout_seconds, {payout_default}) AS threshold
            FROM {withdrawals} LEFT JOIN tenants_paymentpolicy pp ON pp.tenant_id = w.tenant_id
            WHERE w.state = '{WithdrawalState.PAYOUT_PENDING}'{scope.only("w")}
        ) x
        WHERE x.updated_at < %(as_of)s - make_interval(secs => x.threshold)
        UNION ALL
        SELECT 'deposit', x.id, x.tenant_id, x.state, x.amount, x.currency, x.updated_at, x.threshold
        FROM (
            SELECT d.id, d.tenant_id, d.state, d.amount, d.currency, d.updated_at,
                   COALESCE(pp.stuck_deposit_seconds, {deposit_default}) AS threshold
            FROM {deposits} LEFT JOIN tenants_paymentpolicy pp ON pp.tenant_id = d.tenant_id
            WHERE d.state IN {_in(open_deposit)}{scope.only("d")}
        ) x
        WHERE x.updated_at < %(as_of)s - make_interval(secs => x.threshold)
    """
    found = []
    for kind, pk, tenant_id, state, amount, currency, since, threshold in rows(sql, scope.params):
        age = int((scope.as_of - since).total_seconds())
        found.append(
            Found(
                type=FindingType.STUCK_PAYOUT if kind == "withdrawal" else FindingType.STUCK_DEPOSIT,
                tenant_id=tenant_id,
                object_type=kind,
                object_id=str(pk),
                expected={"max_seconds": threshold},
                actual={"seconds": age, "state": state},
                detail={
                    "transaction_id": str(pk),
                    "state": state,
                    "since": since.isoformat(),
                    "amount": money(amount, currency),
                },
            )
        )
    return found


CHECKS: list[Callable[[Scope], list[Found]]] = [
    withdrawal_ledger_events,
    deposit_ledger_events,
    wallet_balances,
    journal_entries,
    payout_attempts,
    stuck_transactions,
]

# The game wallet's checks live in their own module (it imports this one's Found and rows).
from reconciliation import game_checks, game_report  # noqa: E402

SEVERITY.update(game_checks.SEVERITY)
SEVERITY.update(game_report.SEVERITY)  # its check runs with the settlement comparison (services)
CHECKS += game_checks.CHECKS


def run_checks(
    scope: Scope,
    checks: list[Callable[[Scope], list[Found]]] | None = None,
    *,
    snapshot_id: str | None = None,
    sessions: int = 1,
    settings: dict[str, str] | None = None,
) -> list[CheckResult]:
    """Run the checks, in the caller's transaction or spread over `sessions` that share its snapshot.

    With an exported snapshot (pg_export_snapshot() of the caller's REPEATABLE READ
    transaction) each extra session adopts it (SET TRANSACTION SNAPSHOT), as pg_dump -j
    does: the checks run side by side on several cores and still see exactly the same
    books. Results come back in the order of `checks`.
    """
    checks = checks if checks is not None else CHECKS
    if snapshot_id is None or sessions <= 1 or len(checks) <= 1:
        return [_timed(check, scope) for check in checks]
    if not SNAPSHOT_ID.fullmatch(snapshot_id):
        raise ValueError(f"not a snapshot id: {snapshot_id!r}")
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for index, check in enumerate(checks):
        todo.put((index, check))
    results: list[CheckResult | None] = [None] * len(checks)
    errors: list[BaseException] = []
    alias = replica.read_alias()  # the server of the caller's snapshot: every session reads there

    def session() -> None:
        try:
            with replica.reading(alias), transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot_id}'")  # a utility statement: no parameters
                configure(cursor, settings or {})
                while not errors:
                    try:
                        index, check = todo.get_nowait()
                    except queue.Empty:
                        return
                    results[index] = _timed(check, scope)
        except BaseException as error:  # noqa: BLE001 - handed to the calling thread below
            errors.append(error)
        finally:
            connections[alias].close()

    threads = [threading.Thread(target=session, name=f"reconciliation-{n}") for n in range(min(sessions, len(checks)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+-[0-9]+")


def configure(cursor, settings: dict[str, str]) -> None:
    """Set PostgreSQL settings for the rest of the session's transaction, in one statement."""
    if settings:
        calls = ", ".join("set_config(%s, %s, true)" for _ in settings)
        cursor.execute(f"SELECT {calls}", [value for pair in settings.items() for value in pair])


def _timed(check: Callable[[Scope], list[Found]], scope: Scope) -> CheckResult:
    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    start = time.perf_counter()
    with replica.reading_connection().execute_wrapper(count):
        found = check(scope)
    seconds = time.perf_counter() - start
    if isinstance(found, Totals):  # one COPY, which the wrapper does not see
        return CheckResult(check.__name__, [], seconds, len(statements) + 1, totals=found)
    return CheckResult(check.__name__, found, seconds, len(statements))
