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


def load_books(
    transactions: int, *, tenants: int = 4, stale_every: int = 0, when=None, settled: bool = False
) -> Loaded:
    """Write about `transactions` deposits and withdrawals (rounded down to whole wallets) with their books.

    Call it inside a transaction, and within `triggers_off()` for speed.
    """
    started = time.perf_counter()
    wallets = transactions // PER_WALLET
    now = when or timezone.now()
    stale = now - timedelta(days=2)
    tenant_ids = _tenants(tenants)
    entries, final_available, final_held = _template_ledger()
    batch_bits = secrets.randbits(32)  # keeps ids of two loads in one database apart
    batch = f"{batch_bits:08x}"
    millis = int(now.timestamp() * 1000)

    def is_stale(w: int) -> bool:
        return bool(stale_every) and w % stale_every == 0

    def state_of(w: int, index: int) -> str:
        state = TEMPLATE[index][1]
        if settled and not is_stale(w):
            return SETTLED.get(state, state)
        return state

    with connection.cursor() as cursor:
        user0, player0, wallet0 = (_max_id(cursor, t) for t in ("auth_user", "wallet_player", "wallet_wallet"))
        entry0, posting0 = _max_id(cursor, "wallet_journalentry"), _max_id(cursor, "wallet_posting")
        raw = cursor.cursor
        ts, old = now.isoformat(), stale.isoformat()
        _copy(
            raw,
            "auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active,"
            " date_joined)",
            (f"{user0 + w + 1}\t!\tf\tbulk-{batch}-{w}\t\t\t\tf\tt\t{ts}\n" for w in range(wallets)),
        )
        _copy(
            raw,
            "wallet_player (id, external_ref, display_name, created_at, tenant_id, user_id)",
            (
                f"{player0 + w + 1}\t{batch}-{w}\t\t{ts}\t{tenant_ids[w % tenants]}\t{user0 + w + 1}\n"
                for w in range(wallets)
            ),
        )
        _copy(
            raw,
            "wallet_wallet (id, currency, balance_available, balance_held, created_at, updated_at, player_id,"
            " tenant_id)",
            (
                f"{wallet0 + w + 1}\t{CURRENCY}\t{final_available * _factor(w) * 100}"
                f"\t{final_held * _factor(w) * 100}\t{ts}\t{ts}\t{player0 + w + 1}\t{tenant_ids[w % tenants]}\n"
                for w in range(wallets)
            ),
        )

        def tx_id(w: int, index: int) -> str:
            return _uuid7(millis, batch_bits, 1 if TEMPLATE[index][0] == "deposit" else 2, w * PER_WALLET + index)

        def deposits():
            for w in range(wallets):
                tenant, wallet, player, f = tenant_ids[w % tenants], wallet0 + w + 1, player0 + w + 1, _factor(w)
                for index, (kind, _, units) in enumerate(TEMPLATE):
                    if kind != "deposit":
                        continue
                    state = state_of(w, index)
                    n = w * PER_WALLET + index
                    done = ts if state == "completed" else "\\N"
                    when = old if state == "pending_provider" and is_stale(w) else ts
                    yield (
                        f"{tx_id(w, index)}\t{units * 100 * f}\t{CURRENCY}\t{when}\t{when}\tDP-{batch[:5]}{n:08X}"
                        f"\t{state}\tsandbox\tpay_{batch}_{n}\t\t{done}\t{tenant}\t{player}\t{wallet}\n"
                    )

        _copy(
            raw,
            "wallet_deposit (id, amount, currency, created_at, updated_at, reference, state, provider,"
            " provider_reference, checkout_url, completed_at, tenant_id, player_id, wallet_id)",
            deposits(),
        )

        def withdrawals():
            for w in range(wallets):
                tenant, wallet, player, f = tenant_ids[w % tenants], wallet0 + w + 1, player0 + w + 1, _factor(w)
                for index, (kind, _, units) in enumerate(TEMPLATE):
                    if kind != "withdrawal":
                        continue
                    state = state_of(w, index)
                    n = w * PER_WALLET + index
                    paid = ts if state == "paid" else "\\N"
                    when = old if state == "payout_pending" and is_stale(w) else ts
                    yield (
                        f"{tx_id(w, index)}\t{units * 100 * f}\t{CURRENCY}\t{when}\t{when}\tWD-{batch[:5]}{n:08X}"
                        f"\t{state}\t{paid}\t{player}\t\\N\t{tenant}\t{wallet}\n"
                    )

        _copy(
            raw,
            "wallet_withdrawal (id, amount, currency, created_at, updated_at, reference, state, paid_at, player_id,"
            " requested_by_id, tenant_id, wallet_id)",
            withdrawals(),
        )

        def attempts():
            for w in range(wallets):
                tenant = tenant_ids[w % tenants]
                for index, status in ATTEMPTS.items():
                    if status == "pending" and state_of(w, index) != "payout_pending":
                        status = "failed"  # the settled history's payout failed
                    done = "\\N" if status == "pending" else ts
                    yield (
                        f"{_uuid7(millis, batch_bits, 3, w * PER_WALLET + index)}\t1\t{status}\tsandbox"
                        f"\tpo_{batch}_{w}_{index}\t"
                        f"\t{ts}\t{ts}\t{done}\t{tenant}\t{tx_id(w, index)}\t1\t{ts}\t\tf\n"
                    )

        _copy(
            raw,
            "payouts_payoutattempt (id, number, status, provider, provider_reference, failure_reason, created_at,"
            " updated_at, completed_at, tenant_id, withdrawal_id, dispatch_count, dispatched_at, last_error,"
            " outcome_unknown)",
            attempts(),
        )

        def journal():
            entry = entry0
            for w in range(wallets):
                tenant = tenant_ids[w % tenants]
                for index, event, _ in entries:
                    entry += 1
                    source = tx_id(w, index)
                    deposit, withdrawal = (source, "\\N") if TEMPLATE[index][0] == "deposit" else ("\\N", source)
                    yield f"{entry}\t{CURRENCY}\t{event}\t{ts}\t{deposit}\t{tenant}\t{withdrawal}\n"

        _copy(
            raw,
            "wallet_journalentry (id, currency, event_type, created_at, deposit_id, tenant_id, withdrawal_id)",
            journal(),
        )

        def postings():
            entry, posting = entry0, posting0
            for w in range(wallets):
                tenant, wallet, f = tenant_ids[w % tenants], wallet0 + w + 1, _factor(w) * 100
                for _, _, legs in entries:
                    entry += 1
                    for account, units, after in legs:
                        posting += 1
                        if after is None:
                            yield f"{posting}\t{account}\t{units * f}\t\\N\t{entry}\t{tenant}\t\\N\n"
                        else:
                            yield f"{posting}\t{account}\t{units * f}\t{after * f}\t{entry}\t{tenant}\t{wallet}\n"

        _copy(raw, "wallet_posting (id, account, amount, balance_after, entry_id, tenant_id, wallet_id)", postings())
        for table, column in (
            ("auth_user", "id"),
            ("wallet_player", "id"),
            ("wallet_wallet", "id"),
            ("wallet_journalentry", "id"),
            ("wallet_posting", "id"),
        ):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT max({column}) FROM {table}))"
            )
    legs = sum(len(entry_legs) for _, _, entry_legs in entries)
    return Loaded(
        transactions=wallets * PER_WALLET,
        wallets=wallets,
        journal_entries=wallets * len(entries),
        postings=wallets * legs,
        payout_attempts=wallets * len(ATTEMPTS),
        seconds=time.perf_counter() - started,
        tenant_ids=tenant_ids,
    )


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
