"""The invariant checks: one set-based SQL statement each, whatever the number of rows.

Every check reads the whole dataset (or one tenant's share of it) in one statement
and returns only the rows that disagree, so the work is PostgreSQL's scans and hash
joins and the Python side touches findings alone. The expectations the SQL checks
are derived from the same tables the services follow: `wallet.ledger.BALANCE_EFFECTS`
(legs of each money event) and EVENTS_BY_STATE below (docs/state-machine.md).

The checks are run by reconciliation.services inside one REPEATABLE READ, READ ONLY
transaction, so they all see the same snapshot of the books.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection

from reconciliation.models import FindingType, Severity
from tenants.models import PaymentPolicy
from wallet.ledger import BALANCE_EFFECTS
from wallet.models import Account, DepositState, LedgerEvent, WithdrawalState
from wallet.money import format_amount

SEVERITY: dict[str, str] = {
    FindingType.PAID_WITHDRAWAL_EVENT_COUNT: Severity.CRITICAL,
    FindingType.COMPLETED_DEPOSIT_EVENT_COUNT: Severity.CRITICAL,
    FindingType.LEDGER_EVENT_STATE_MISMATCH: Severity.HIGH,
    FindingType.WALLET_AVAILABLE_MISMATCH: Severity.CRITICAL,
    FindingType.WALLET_HELD_MISMATCH: Severity.CRITICAL,
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

# How many of each money event a transaction in each state has been through.
EVENTS_BY_STATE: dict[str, dict[str, dict[str, int]]] = {
    "withdrawal": {
        state: {
            LedgerEvent.WITHDRAW_REQUESTED: 1,
            LedgerEvent.WITHDRAW_RELEASED: int(state in (WithdrawalState.REJECTED, WithdrawalState.CANCELED)),
            LedgerEvent.WITHDRAW_PAID: int(state == WithdrawalState.PAID),
        }
        for state in WithdrawalState.values
    },
    "deposit": {
        state: {LedgerEvent.DEPOSIT_COMPLETED: int(state == DepositState.COMPLETED)} for state in DepositState.values
    },
}
# The state whose one event has a finding type of its own (design, section 10).
_HEADLINE = {
    ("withdrawal", WithdrawalState.PAID, LedgerEvent.WITHDRAW_PAID): FindingType.PAID_WITHDRAWAL_EVENT_COUNT,
    ("deposit", DepositState.COMPLETED, LedgerEvent.DEPOSIT_COMPLETED): FindingType.COMPLETED_DEPOSIT_EVENT_COUNT,
}
OTHER_EVENTS = "other"  # money events of the wrong kind of source (e.g. deposit_completed on a withdrawal)


@dataclass(frozen=True)
class Scope:
    """What a run looks at: one tenant or all (None), and the time stuck checks measure from."""

    tenant_id: int | None
    as_of: datetime

    def only(self, alias: str) -> str:
        """`AND alias.tenant_id = %(tenant)s` for a one-tenant run, nothing otherwise."""
        return f" AND {alias}.tenant_id = %(tenant)s" if self.tenant_id is not None else ""

    @property
    def params(self) -> dict:
        return {"tenant": self.tenant_id, "as_of": self.as_of}


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


def rows(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def money(amount: int | None, currency: str) -> str | None:
    return None if amount is None else f"{format_amount(amount, currency)} {currency}"


def _in(values: Iterable[str]) -> str:
    """An SQL list of constants of this module (states, event types): never user input."""
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


def _expected_count(kind: str, event: str, alias: str) -> str:
    states = [state for state, events in EVENTS_BY_STATE[kind].items() if events[event]]
    return f"(CASE WHEN {alias}.state IN {_in(states)} THEN 1 ELSE 0 END)" if states else "0"


# --- ledger against transaction states ---------------------------------------------------------


def _events_sql(kind: str, scope: Scope) -> str:
    table, column = f"wallet_{kind}", f"{kind}_id"
    events = list(next(iter(EVENTS_BY_STATE[kind].values())))
    counts = ", ".join(f"count(*) FILTER (WHERE e.event_type = '{event}') AS {event}" for event in events)
    mismatch = " OR ".join(f"COALESCE(ev.{event}, 0) <> {_expected_count(kind, event, 't')}" for event in events)
    return f"""
        WITH ev AS (
            SELECT e.{column} AS id, {counts},
                   count(*) FILTER (WHERE e.event_type NOT IN {_in(events)}) AS {OTHER_EVENTS}
            FROM wallet_journalentry e
            WHERE e.{column} IS NOT NULL{scope.only("e")}
            GROUP BY e.{column}
        )
        SELECT t.id, t.tenant_id, t.state, t.amount, t.currency,
               {", ".join(f"COALESCE(ev.{event}, 0)" for event in events)}, COALESCE(ev.{OTHER_EVENTS}, 0)
        FROM {table} t LEFT JOIN ev ON ev.id = t.id
        WHERE ({mismatch} OR COALESCE(ev.{OTHER_EVENTS}, 0) <> 0){scope.only("t")}
    """


def _events_findings(kind: str, scope: Scope) -> list[Found]:
    events = list(next(iter(EVENTS_BY_STATE[kind].values())))
    found = []
    for pk, tenant_id, state, amount, currency, *counts in rows(_events_sql(kind, scope), scope.params):
        expected_by_event = {**EVENTS_BY_STATE[kind][state], OTHER_EVENTS: 0}
        for event, count in zip([*events, OTHER_EVENTS], counts, strict=True):
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


def wallet_balances(scope: Scope) -> list[Found]:
    """Each wallet's available and held balances equal the sums of their postings."""
    sql = f"""
        WITH ledger AS (
            SELECT p.wallet_id,
                   sum(p.amount) FILTER (WHERE p.account = '{Account.PLAYER_AVAILABLE}')::bigint AS available,
                   sum(p.amount) FILTER (WHERE p.account = '{Account.PLAYER_HELD}')::bigint AS held
            FROM wallet_posting p
            WHERE p.wallet_id IS NOT NULL{scope.only("p")}
            GROUP BY p.wallet_id
        )
        SELECT w.id, w.tenant_id, w.player_id, w.currency, w.balance_available, COALESCE(l.available, 0),
               w.balance_held, COALESCE(l.held, 0)
        FROM wallet_wallet w LEFT JOIN ledger l ON l.wallet_id = w.id
        WHERE (w.balance_available <> COALESCE(l.available, 0)
               OR w.balance_held <> COALESCE(l.held, 0)){scope.only("w")}
    """
    found = []
    for pk, tenant_id, player_id, currency, available, ledger_available, held, ledger_held in rows(sql, scope.params):
        for kind, actual, expected, account in (
            (FindingType.WALLET_AVAILABLE_MISMATCH, available, ledger_available, Account.PLAYER_AVAILABLE),
            (FindingType.WALLET_HELD_MISMATCH, held, ledger_held, Account.PLAYER_HELD),
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


def _legs_expression(alias: str) -> str:
    cases = " ".join(f"WHEN '{event}' THEN {len(legs)}" for event, legs in BALANCE_EFFECTS.items())
    return f"(CASE {alias}.event_type {cases} ELSE 0 END)"


def journal_entries(scope: Scope) -> list[Found]:
    """Each journal entry's postings sum to zero, with one leg per account its event moves."""
    sql = f"""
        WITH legs AS (
            SELECT p.entry_id, sum(p.amount)::bigint AS total, count(*) AS legs
            FROM wallet_posting p
            WHERE TRUE{scope.only("p")}
            GROUP BY p.entry_id
        )
        SELECT e.id, e.tenant_id, e.currency, e.event_type, COALESCE(e.deposit_id, e.withdrawal_id),
               COALESCE(l.total, 0), COALESCE(l.legs, 0), {_legs_expression("e")}
        FROM wallet_journalentry e LEFT JOIN legs l ON l.entry_id = e.id
        WHERE (COALESCE(l.total, 0) <> 0 OR COALESCE(l.legs, 0) <> {_legs_expression("e")}){scope.only("e")}
    """
    return [
        Found(
            type=FindingType.UNBALANCED_JOURNAL_ENTRY,
            tenant_id=tenant_id,
            object_type="journal_entry",
            object_id=str(pk),
            expected={"sum": 0, "postings": expected_legs},
            actual={"sum": total, "postings": legs},
            detail={
                "event_type": event_type,
                "currency": currency,
                "transaction_id": str(source_id),
                "imbalance_display": money(total, currency),
            },
        )
        for pk, tenant_id, currency, event_type, source_id, total, legs, expected_legs in rows(sql, scope.params)
    ]


# --- payouts -----------------------------------------------------------------------------------


def payout_attempts(scope: Scope) -> list[Found]:
    """At most one attempt per withdrawal succeeds, and the withdrawal's state agrees with its attempts."""
    paid, pending = WithdrawalState.PAID, WithdrawalState.PAYOUT_PENDING
    sql = f"""
        WITH attempts AS (
            SELECT a.withdrawal_id, count(*) AS total,
                   count(*) FILTER (WHERE a.status = 'succeeded') AS succeeded,
                   count(*) FILTER (WHERE a.status = 'pending') AS pending,
                   array_agg(a.id::text ORDER BY a.number) FILTER (WHERE a.status = 'succeeded') AS succeeded_ids
            FROM payouts_payoutattempt a
            WHERE TRUE{scope.only("a")}
            GROUP BY a.withdrawal_id
        )
        SELECT w.id, w.tenant_id, w.state, w.amount, w.currency, a.total, a.succeeded, a.pending, a.succeeded_ids
        FROM attempts a JOIN wallet_withdrawal w ON w.id = a.withdrawal_id
        WHERE a.succeeded > 1
           OR (a.succeeded = 1 AND w.state <> '{paid}')
           OR (w.state = '{paid}' AND a.succeeded = 0)
           OR (a.pending > 0 AND w.state <> '{pending}')
           OR (w.state = '{pending}' AND a.pending = 0)
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
        if succeeded == 1 and state != paid:
            expected, actual = {"state": str(paid)}, {"state": state, "succeeded_attempts": 1}
        elif state == paid and succeeded == 0:
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


def stuck_transactions(scope: Scope) -> list[Found]:
    """Payouts pending, and deposits neither completed nor failed, for longer than the tenant allows.

    Age is the time since the row last changed (`updated_at`): when the withdrawal
    entered payout_pending, or the deposit was created or handed to the PSP.
    """
    open_deposit = (DepositState.CREATED, DepositState.PENDING_PROVIDER)
    sql = f"""
        SELECT 'withdrawal', x.id, x.tenant_id, x.state, x.amount, x.currency, x.updated_at, x.threshold
        FROM (
            SELECT w.id, w.tenant_id, w.state, w.amount, w.currency, w.updated_at,
                   COALESCE(pp.stuck_payout_seconds, {_default("stuck_payout_seconds")}) AS threshold
            FROM wallet_withdrawal w LEFT JOIN tenants_paymentpolicy pp ON pp.tenant_id = w.tenant_id
            WHERE w.state = '{WithdrawalState.PAYOUT_PENDING}'{scope.only("w")}
        ) x
        WHERE x.updated_at < %(as_of)s - make_interval(secs => x.threshold)
        UNION ALL
        SELECT 'deposit', x.id, x.tenant_id, x.state, x.amount, x.currency, x.updated_at, x.threshold
        FROM (
            SELECT d.id, d.tenant_id, d.state, d.amount, d.currency, d.updated_at,
                   COALESCE(pp.stuck_deposit_seconds, {_default("stuck_deposit_seconds")}) AS threshold
            FROM wallet_deposit d LEFT JOIN tenants_paymentpolicy pp ON pp.tenant_id = d.tenant_id
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


def run_checks(scope: Scope, checks: list[Callable[[Scope], list[Found]]] | None = None) -> list[CheckResult]:
    """Run every check in the caller's transaction; one statement each."""
    results = []
    for check in checks or CHECKS:
        start = time.perf_counter()
        findings = check(scope)
        results.append(CheckResult(check.__name__, findings, time.perf_counter() - start))
    return results
