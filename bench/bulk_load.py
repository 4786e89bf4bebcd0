"""Consistent books at scale, written with COPY: for the benchmark and the query-count tests.

The services write one payment per transaction; loading a million that way would take
hours. This writes the same rows the services would (transactions, journal entries,
postings with balance_after, payout attempts, wallet balances) straight into the
tables with COPY, from one template of ten transactions per wallet that covers every
state with money in it:

| deposit | state | | withdrawal | state | attempts |
|---|---|---|---|---|---|
| 100 | completed | | 30 | paid through the PSP | 1 succeeded |
| 60 | completed | | 20 | paid manually | |
| 40 | failed | | 10 | rejected | |
| 20 | pending_provider | | 10 | canceled | |
| | | | 15 | payout_failed | 1 failed |
| | | | 5 | payout_pending | 1 pending |

Amounts are in major units, times a per-wallet factor. The ledger legs come from
`wallet.ledger.BALANCE_EFFECTS`, so the books balance by construction and
reconciliation of a fresh load finds nothing, except transactions deliberately left
open too long (`stale_every`): every n-th wallet's pending deposit and payout are dated
two days before the rest, which the stuck checks report.

Rows are dated `when` (default: now). `settled=True` loads a history whose payments
have all ended, as old ones have: the pending deposit failed and the pending payout
failed (the same ledger), but for the stale wallets. Ids of deposits, withdrawals and
payout attempts are version-7 UUIDs of `when`, as the services make them.

State history and audit rows are not written: reconciliation does not read them.
"""

import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from tenants.models import PaymentPolicy, Tenant
from wallet.ledger import BALANCE_EFFECTS
from wallet.models import Account, LedgerEvent

TEMPLATE = [
    ("deposit", "completed", 100),
    ("deposit", "completed", 60),
    ("deposit", "failed", 40),
    ("deposit", "pending_provider", 20),
    ("withdrawal", "paid", 30),  # through the PSP
    ("withdrawal", "paid", 20),  # marked paid by an operator
    ("withdrawal", "rejected", 10),
    ("withdrawal", "canceled", 10),
    ("withdrawal", "payout_failed", 15),
    ("withdrawal", "payout_pending", 5),
]
ATTEMPTS = {4: "succeeded", 8: "failed", 9: "pending"}  # template index -> the attempt's status
EVENTS = {
    "completed": [LedgerEvent.DEPOSIT_COMPLETED],
    "paid": [LedgerEvent.WITHDRAW_REQUESTED, LedgerEvent.WITHDRAW_PAID],
    "rejected": [LedgerEvent.WITHDRAW_REQUESTED, LedgerEvent.WITHDRAW_RELEASED],
    "canceled": [LedgerEvent.WITHDRAW_REQUESTED, LedgerEvent.WITHDRAW_RELEASED],
    "payout_failed": [LedgerEvent.WITHDRAW_REQUESTED],
    "payout_pending": [LedgerEvent.WITHDRAW_REQUESTED],
}
# A settled history: what the template's open transactions became (the same ledger).
SETTLED = {"pending_provider": "failed", "payout_pending": "payout_failed"}
PER_WALLET = len(TEMPLATE)
CURRENCY = "EUR"
_ENTRY_ORDER = [0, 1, 4, 5, 6, 7, 8, 9]  # deposits in first, then the withdrawals


@dataclass
class Loaded:
    transactions: int
    wallets: int
    journal_entries: int
    postings: int
    payout_attempts: int
    seconds: float
    tenant_ids: list[int]


def _template_ledger():
    """Per template: (tx index, event, [(account, unit amount, unit balance_after or None)]), and final balances."""
    available = held = 0
    entries = []
    for index in _ENTRY_ORDER:
        _, state, units = TEMPLATE[index]
        for event in EVENTS[state]:
            legs = []
            for account, sign in BALANCE_EFFECTS[event].items():
                if account == Account.PLAYER_AVAILABLE:
                    available += sign * units
                    legs.append((str(account), sign * units, available))
                elif account == Account.PLAYER_HELD:
                    held += sign * units
                    legs.append((str(account), sign * units, held))
                else:
                    legs.append((str(account), sign * units, None))
            entries.append((index, str(event), legs))
    return entries, available, held


def _max_id(cursor, table: str) -> int:
    cursor.execute(f"SELECT COALESCE(max(id), 0) FROM {table}")
    return cursor.fetchone()[0]


def _uuid7(millis: int, batch: int, kind: int, n: int) -> str:
    """A version-7 UUID of `millis`, unique by (batch, kind, n): ordered by time like the services' ids."""
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (kind & 0xF) << 72 | (batch >> 24 & 0xFF) << 64
    value |= 0b10 << 62 | (batch & 0xFFFFFF) << 38 | (n & ((1 << 38) - 1))
    return f"{value:032x}"


@contextmanager
def triggers_off():
    """No triggers (append-only guards, deferred balance and foreign-key checks) while loading, as pg_restore does.

    The rows are consistent by construction; reconciliation is what checks them. Needs a
    superuser, which the benchmark and test databases have.
    """
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        (before,) = cursor.fetchone()
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('session_replication_role', %s, false)", [before])


@dataclass(frozen=True)
class Plan:
    """Everything a load writes is a function of this and the wallet's number: slices load independently."""

    wallets: int
    tenant_ids: tuple[int, ...]
    user0: int
    player0: int
    wallet0: int
    entry0: int
    posting0: int
    batch_bits: int
    millis: int
    ts: str
    old: str
    stale_every: int
    settled: bool

    @property
    def batch(self) -> str:
        return f"{self.batch_bits:08x}"

    def is_stale(self, w: int) -> bool:
        return bool(self.stale_every) and w % self.stale_every == 0

    def state_of(self, w: int, index: int) -> str:
        state = TEMPLATE[index][1]
        if self.settled and not self.is_stale(w):
            return SETTLED.get(state, state)
        return state

    def tenant(self, w: int) -> int:
        return self.tenant_ids[w % len(self.tenant_ids)]

    def tx_id(self, w: int, index: int) -> str:
        return _uuid7(self.millis, self.batch_bits, 1 if TEMPLATE[index][0] == "deposit" else 2, w * PER_WALLET + index)


def _plan(transactions: int, *, tenants: int, stale_every: int, when, settled: bool) -> Plan:
    now = when or timezone.now()
    with connection.cursor() as cursor:
        user0, player0, wallet0 = (_max_id(cursor, t) for t in ("auth_user", "wallet_player", "wallet_wallet"))
        entry0, posting0 = _max_id(cursor, "wallet_journalentry"), _max_id(cursor, "wallet_posting")
    return Plan(
        wallets=transactions // PER_WALLET,
        tenant_ids=tuple(_tenants(tenants)),
        user0=user0,
        player0=player0,
        wallet0=wallet0,
        entry0=entry0,
        posting0=posting0,
        batch_bits=secrets.randbits(32),  # keeps ids of two loads in one database apart
        millis=int(now.timestamp() * 1000),
        ts=now.isoformat(),
        old=(now - timedelta(days=2)).isoformat(),
        stale_every=stale_every,
        settled=settled,
    )


def _users(plan: Plan, lo: int, hi: int):
    for w in range(lo, hi):
        yield f"{plan.user0 + w + 1}\t!\tf\tbulk-{plan.batch}-{w}\t\t\t\tf\tt\t{plan.ts}\n"


def _players(plan: Plan, lo: int, hi: int):
    for w in range(lo, hi):
        yield f"{plan.player0 + w + 1}\t{plan.batch}-{w}\t\t{plan.ts}\t{plan.tenant(w)}\t{plan.user0 + w + 1}\n"


def _wallets(plan: Plan, lo: int, hi: int):
    _, final_available, final_held = _template_ledger()
    for w in range(lo, hi):
        f = _factor(w) * 100
        yield (
            f"{plan.wallet0 + w + 1}\t{CURRENCY}\t{final_available * f}\t{final_held * f}\t{plan.ts}\t{plan.ts}"
            f"\t{plan.player0 + w + 1}\t{plan.tenant(w)}\n"
        )


def _deposits(plan: Plan, lo: int, hi: int):
    for w in range(lo, hi):
        tenant, wallet, player, f = plan.tenant(w), plan.wallet0 + w + 1, plan.player0 + w + 1, _factor(w)
        for index, (kind, _, units) in enumerate(TEMPLATE):
            if kind != "deposit":
                continue
            state = plan.state_of(w, index)
            n = w * PER_WALLET + index
            done = plan.ts if state == "completed" else "\\N"
            when = plan.old if state == "pending_provider" and plan.is_stale(w) else plan.ts
            yield (
                f"{plan.tx_id(w, index)}\t{units * 100 * f}\t{CURRENCY}\t{when}\t{when}\tDP-{plan.batch[:5]}{n:08X}"
                f"\t{state}\tsandbox\tpay_{plan.batch}_{n}\t\t{done}\t{tenant}\t{player}\t{wallet}\n"
            )


def _withdrawals(plan: Plan, lo: int, hi: int):
    for w in range(lo, hi):
        tenant, wallet, player, f = plan.tenant(w), plan.wallet0 + w + 1, plan.player0 + w + 1, _factor(w)
        for index, (kind, _, units) in enumerate(TEMPLATE):
            if kind != "withdrawal":
                continue
            state = plan.state_of(w, index)
            n = w * PER_WALLET + index
            paid = plan.ts if state == "paid" else "\\N"
            when = plan.old if state == "payout_pending" and plan.is_stale(w) else plan.ts
            yield (
                f"{plan.tx_id(w, index)}\t{units * 100 * f}\t{CURRENCY}\t{when}\t{when}\tWD-{plan.batch[:5]}{n:08X}"
                f"\t{state}\t{paid}\t{player}\t\\N\t{tenant}\t{wallet}\n"
            )


def _attempts(plan: Plan, lo: int, hi: int):
    for w in range(lo, hi):
        for index, status in ATTEMPTS.items():
            if status == "pending" and plan.state_of(w, index) != "payout_pending":
                status = "failed"  # the settled history's payout failed
            done = "\\N" if status == "pending" else plan.ts
            yield (
                f"{_uuid7(plan.millis, plan.batch_bits, 3, w * PER_WALLET + index)}\t1\t{status}\tsandbox"
                f"\tpo_{plan.batch}_{w}_{index}\t\t{plan.ts}\t{plan.ts}\t{done}\t{plan.tenant(w)}"
                f"\t{plan.tx_id(w, index)}\t1\t{plan.ts}\t\tf\n"
            )


def _journal(plan: Plan, lo: int, hi: int):
    entries, _, _ = _template_ledger()
    for w in range(lo, hi):
        tenant, entry = plan.tenant(w), plan.entry0 + w * len(entries)
        for index, event, _ in entries:
            entry += 1
            source = plan.tx_id(w, index)
            deposit, withdrawal = (source, "\\N") if TEMPLATE[index][0] == "deposit" else ("\\N", source)
            yield f"{entry}\t{CURRENCY}\t{event}\t{plan.ts}\t{deposit}\t{tenant}\t{withdrawal}\n"


def _postings(plan: Plan, lo: int, hi: int):
    entries, _, _ = _template_ledger()
    legs_per_wallet = sum(len(legs) for _, _, legs in entries)
    for w in range(lo, hi):
        tenant, wallet, f = plan.tenant(w), plan.wallet0 + w + 1, _factor(w) * 100
        entry, posting = plan.entry0 + w * len(entries), plan.posting0 + w * legs_per_wallet
        for _, _, legs in entries:
            entry += 1
            for account, units, after in legs:
                posting += 1
                if after is None:
                    yield f"{posting}\t{account}\t{units * f}\t\\N\t{entry}\t{tenant}\t\\N\n"
                else:
                    yield f"{posting}\t{account}\t{units * f}\t{after * f}\t{entry}\t{tenant}\t{wallet}\n"


TABLES = [
    (
        "auth_user",
        "id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined",
        _users,
    ),
    ("wallet_player", "id, external_ref, display_name, created_at, tenant_id, user_id", _players),
    (
        "wallet_wallet",
        "id, currency, balance_available, balance_held, created_at, updated_at, player_id, tenant_id",
        _wallets,
    ),
    (
        "wallet_deposit",
        "id, amount, currency, created_at, updated_at, reference, state, provider, provider_reference, checkout_url,"
        " completed_at, tenant_id, player_id, wallet_id",
        _deposits,
    ),
    (
        "wallet_withdrawal",
        "id, amount, currency, created_at, updated_at, reference, state, paid_at, player_id, requested_by_id,"
        " tenant_id, wallet_id",
        _withdrawals,
    ),
    (
        "payouts_payoutattempt",
        "id, number, status, provider, provider_reference, failure_reason, created_at, updated_at, completed_at,"
        " tenant_id, withdrawal_id, dispatch_count, dispatched_at, last_error, outcome_unknown",
        _attempts,
    ),
    ("wallet_journalentry", "id, currency, event_type, created_at, deposit_id, tenant_id, withdrawal_id", _journal),
    ("wallet_posting", "id, account, amount, balance_after, entry_id, tenant_id, wallet_id", _postings),
]
_SEQUENCES = ("auth_user", "wallet_player", "wallet_wallet", "wallet_journalentry", "wallet_posting")


def _write(raw_cursor, plan: Plan, lo: int, hi: int) -> None:
    """COPY wallets lo..hi-1 with everything of theirs into every table."""
    for table, columns, rows in TABLES:
        _copy(raw_cursor, f"{table} ({columns})", rows(plan, lo, hi))


def _set_sequences(cursor) -> None:
    for table in _SEQUENCES:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def _loaded(plan: Plan, started: float) -> "Loaded":
    entries, _, _ = _template_ledger()
    legs = sum(len(entry_legs) for _, _, entry_legs in entries)
    return Loaded(
        transactions=plan.wallets * PER_WALLET,
        wallets=plan.wallets,
        journal_entries=plan.wallets * len(entries),
        postings=plan.wallets * legs,
        payout_attempts=plan.wallets * len(ATTEMPTS),
        seconds=time.perf_counter() - started,
        tenant_ids=list(plan.tenant_ids),
    )


def load_books(
    transactions: int, *, tenants: int = 4, stale_every: int = 0, when=None, settled: bool = False
) -> Loaded:
    """Write about `transactions` deposits and withdrawals (rounded down to whole wallets) with their books.

    Call it inside a transaction, and within `triggers_off()` for speed.
    """
    started = time.perf_counter()
    plan = _plan(transactions, tenants=tenants, stale_every=stale_every, when=when, settled=settled)
    with connection.cursor() as cursor:
        _write(cursor.cursor, plan, 0, plan.wallets)
        _set_sequences(cursor)
    return _loaded(plan, started)


def load_books_fast(
    transactions: int, *, workers: int = 2, tenants: int = 4, stale_every: int = 0, when=None, settled: bool = False
) -> Loaded:
    """The same books, faster, for a database nobody else uses: a bulk load as pg_restore does it.

    The tables' secondary indexes and unique constraints are dropped first and built
    again at the end (one sort each, on parallel workers, instead of one insertion per
    row), and `workers` processes each generate and COPY a slice of the wallets, with
    everything of theirs, in sessions of their own (triggers off), committing apart.
    """
    import multiprocessing

    started = time.perf_counter()
    plan = _plan(transactions, tenants=tenants, stale_every=stale_every, when=when, settled=settled)
    dsn = _dsn()
    connection.close()  # the workers are forked: no session of this process crosses into them
    rebuild = _drop_secondary_indexes(dsn)
    try:
        step = -(-plan.wallets // workers)
        slices = [(plan, dsn, lo, min(lo + step, plan.wallets)) for lo in range(0, plan.wallets, step)]
        with multiprocessing.get_context("fork").Pool(len(slices)) as pool:
            pool.starmap(_write_slice, slices)
    finally:
        _run(dsn, rebuild, maintenance=True)
    with connection.cursor() as cursor:
        _set_sequences(cursor)
    return _loaded(plan, started)


def _dsn() -> str:
    params = connection.get_connection_params()
    return " ".join(f"{k}={params[k]}" for k in ("host", "port", "user", "password", "dbname") if params.get(k))


def _write_slice(plan: Plan, dsn: str, lo: int, hi: int) -> None:
    import psycopg

    with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET synchronous_commit = off")
        _write(cursor, plan, lo, hi)


def _drop_secondary_indexes(dsn: str) -> list[str]:
    """Drop every index and unique constraint but the primary keys of the loaded tables; returns how to rebuild them."""
    import psycopg

    tables = [table for table, _, _ in TABLES]
    with psycopg.connect(dsn, autocommit=True) as conn:
        constraints = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = ANY(%s::regclass[]) AND contype = 'u'",
            [tables],
        ).fetchall()
        indexes = conn.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [tables],
        ).fetchall()
        for table, name, _ in constraints:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
    return [definition for _, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in constraints
    ]


def _run(dsn: str, statements: list[str], *, maintenance: bool = False) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        if maintenance:
            conn.execute("SET maintenance_work_mem = '1GB'")
        for statement in statements:
            conn.execute(statement)


def _factor(w: int) -> int:
    return 1 + w % 97


def _tenants(count: int) -> list[int]:
    ids = []
    for n in range(count):
        tenant, _ = Tenant.objects.get_or_create(
            slug=f"bulk-{n}", defaults={"name": f"Bulk {n}", "allowed_currencies": [CURRENCY]}
        )
        PaymentPolicy.objects.get_or_create(tenant=tenant)
        ids.append(tenant.pk)
    return ids


def _copy(raw_cursor, target: str, lines, chunk: int = 1 << 20) -> None:
    """COPY text lines into `target`, sent in chunks of about `chunk` bytes."""
    with raw_cursor.copy(f"COPY {target} FROM STDIN") as copy:
        buffer, size = [], 0
        for line in lines:
            buffer.append(line)
            size += len(line)
            if size >= chunk:
                copy.write("".join(buffer))
                buffer, size = [], 0
        if buffer:
            copy.write("".join(buffer))
