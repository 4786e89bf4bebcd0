"""Checkpoints: where a run left the books, so that the next run can read only what changed since.

An incremental run must see every ledger row written after its checkpoint exactly
once, although ids are handed out in one order and transactions commit in another (a
posting with a lower id can commit after one with a higher id). The checkpoint settles
that with three steps around the run's snapshot:

1. `boundary()`, on the primary just before the snapshot: the database clock
   (`taken_at`) and the last journal entry and posting ids handed out so far.
2. `settle()`: wait until no transaction that began before `taken_at` and has written
   anything (it holds a transaction id) is still open. Then every transaction the
   snapshot will not see began after `taken_at`, and took its ids after the boundary's:
   every id at or below the boundary is settled (the snapshot sees it, or it was rolled
   back and will never exist). If such a transaction stays open longer than
   RECONCILIATION_SETTLE_WAIT_SECONDS the run goes on but writes no checkpoint, and
   the next incremental run starts from the previous one.
3. `position()`, inside the snapshot: the highest entry and posting ids it sees, and
   the ids between the boundary and those that it does not see: taken by transactions
   still open (or rolled back). There are few: only ids handed out during the wait.

The next run's new rows are those above the highest id seen and those listed as
missing (checks.new_rows): whatever the order their transactions committed in, each is
counted once. Rows changed since (deposits, withdrawals, wallets: `updated_at`,
written by the application) are those with
`updated_at >= taken_at - RECONCILIATION_CHANGE_MARGIN_SECONDS`, the margin covering the
application's clock against the database's and the moment a service reads the clock
before its transaction starts.

One gap is left to PostgreSQL's own order of work: a statement that took an id before
the boundary but had not yet written its row (nor anything else) when the wait looked.
PostgreSQL gives a transaction its id when it first writes, which for an INSERT is
right after it evaluates the row's id, and the wallet services lock their rows (which
gives the id too) before they insert anything.

The boundary, the wait and the snapshot of a run that writes a checkpoint read the primary
(reconciliation.services); `snapshot_may_start` guards the snapshot should it ever be taken on
a replica (it waits until the replica has replayed the primary's WAL up to the boundary).

Only all-tenants runs write checkpoints (and the wallet totals with them, in the
transaction that records the run's success): one chain, which incremental runs of any
scope start from.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from reconciliation.checks import RECHECKED, Since, Totals
from reconciliation.models import Checkpoint, Finding, WalletTotal

# Application clocks may run behind the database's; a service may read the clock just before its transaction.
CHANGE_MARGIN = timedelta(seconds=float(getattr(settings, "RECONCILIATION_CHANGE_MARGIN_SECONDS", 600)))
# How long a run waits for transactions older than its start before giving up its checkpoint.
SETTLE_WAIT_SECONDS = float(getattr(settings, "RECONCILIATION_SETTLE_WAIT_SECONDS", 60))


@dataclass(frozen=True)
class Boundary:
    """Read on the primary when a run starts: every id at or below these was handed out before `taken_at`."""

    taken_at: datetime
    entry_allocated: int
    posting_allocated: int
    wal_lsn: str


@dataclass(frozen=True)
class Position:
    """What the run's snapshot sees of the ledger: the highest ids, and those below them it does not see."""

    entry_high: int
    entry_missing: list[int]
    posting_high: int
    posting_missing: list[int]


def boundary() -> Boundary:
    """The clock and the ledger sequences, on the primary, just before the run waits and takes its snapshot."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT clock_timestamp(),"
            " COALESCE(pg_sequence_last_value(pg_get_serial_sequence('wallet_journalentry', 'id')::regclass), 0),"
            " COALESCE(pg_sequence_last_value(pg_get_serial_sequence('wallet_posting', 'id')::regclass), 0),"
            " pg_current_wal_lsn()::text"
        )
        taken_at, entries, postings, lsn = cursor.fetchone()
    return Boundary(taken_at, entries, postings, lsn)


# Sessions of this database in a transaction that began before the boundary and has written (holds an xid).
_OLDER_WRITERS = """
    SELECT count(*) FROM (
        SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL
              AND xact_start < %(taken_at)s
        UNION ALL
        SELECT NULL FROM pg_prepared_xacts WHERE database = current_database() AND prepared < %(taken_at)s
    ) older
"""


def settle(start: Boundary, *, wait_seconds: float | None = None) -> bool:
    """Wait until every transaction that began before the boundary and wrote something has ended.

    True when none is left (the boundary's ids are settled for any snapshot taken from
    now on); False if some are still open after `wait_seconds`. Run outside the
    snapshot's transaction: PostgreSQL keeps one view of pg_stat_activity per
    transaction, so each look clears it first.
    """
    deadline = time.monotonic() + (SETTLE_WAIT_SECONDS if wait_seconds is None else wait_seconds)
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(_OLDER_WRITERS, {"taken_at": start.taken_at})
            (older,) = cursor.fetchone()
        if not older:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def snapshot_may_start(start: Boundary, cursor) -> None:
    """On a streaming replica, wait until it has replayed the primary's WAL up to the boundary.

    The snapshot must come after the settling wait in the primary's history; on the
    primary itself it always does.
    """
    cursor.execute("SELECT pg_is_in_recovery()")
    if not cursor.fetchone()[0]:
        return
    deadline = time.monotonic() + SETTLE_WAIT_SECONDS
    while True:
        cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [start.wal_lsn])
        if cursor.fetchone()[0]:
            return
        if time.monotonic() >= deadline:
            raise TimeoutError("the replica has not replayed the primary's WAL up to the run's start")
        time.sleep(0.05)


_POSITION = """
    SELECT high, ARRAY(SELECT n FROM generate_series(%(settled)s + 1, high) n
                       WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = n))
    FROM (SELECT COALESCE(max(id), 0) AS high FROM {table}) top
"""


def position(cursor, start: Boundary | None) -> Position:
    """The highest ledger ids this snapshot sees, and the ids above the boundary's it does not see.

    Index lookups of the ids handed out since the boundary (a wait's worth); without a
    boundary (a run that writes no checkpoint), nothing.
    """
    if start is None:
        return Position(0, [], 0, [])
    found = []
    for table, settled in (("wallet_journalentry", start.entry_allocated), ("wallet_posting", start.posting_allocated)):
        cursor.execute(_POSITION.format(table=table), {"settled": settled})
        found.extend(cursor.fetchone())
    return Position(*found)


def latest() -> Checkpoint | None:
    """The checkpoint the next incremental run starts from."""
    return Checkpoint.objects.select_related("run").order_by("-id").first()


def since(checkpoint: Checkpoint, tenant_id: int | None = None) -> Since:
    """What an incremental run needs of `checkpoint`: its marks, and the objects of its run's findings."""
    recheck: dict[str, set[str]] = {kind: set() for kind in RECHECKED}
    findings = Finding.objects.filter(run_id=checkpoint.run_id, object_type__in=list(RECHECKED))
    if tenant_id is not None:
        findings = findings.filter(tenant_id=tenant_id)
    for object_type, object_id in findings.values_list("object_type", "object_id"):
        recheck[object_type].add(object_id)
    return Since(
        checkpoint_id=checkpoint.pk,
        entry_high=checkpoint.entry_high,
        entry_missing=tuple(checkpoint.entry_missing),
        posting_high=checkpoint.posting_high,
        posting_missing=tuple(checkpoint.posting_missing),
        changed_since=checkpoint.changes_from - CHANGE_MARGIN,
        recheck={kind: tuple(sorted(ids)) for kind, ids in recheck.items() if ids},
    )


def write(run, start: Boundary, seen: Position, totals: Totals, corrections: dict, *, now: datetime) -> Checkpoint:
    """Record the run's checkpoint and its wallet totals; inside the transaction that records the run's success.

    `corrections` ({wallet id: {account: ledger sum}}) replace the balances of the
    wallets that differ from their ledger, when the totals were read from the balances.
    """
    table = WalletTotal._meta.db_table
    with connection.cursor() as cursor:
        if totals.replace:
            cursor.execute(f"TRUNCATE {table}")
            target = table
        else:
            cursor.execute(f"CREATE TEMPORARY TABLE reconciliation_totals_in (LIKE {table}) ON COMMIT DROP")
            target = "reconciliation_totals_in"
        with cursor.cursor.copy(
            f"COPY {target} (wallet_id, available, held, receivable) FROM STDIN (FORMAT binary)"
        ) as copy:
            copy.write(totals.data)
        wallets = cursor.cursor.rowcount
        if not totals.replace:
            cursor.execute(
                f"INSERT INTO {table} (wallet_id, available, held, receivable)"
                f" SELECT wallet_id, available, held, receivable FROM {target} ON CONFLICT (wallet_id) DO UPDATE"
                " SET available = EXCLUDED.available, held = EXCLUDED.held, receivable = EXCLUDED.receivable"
            )
            wallets = cursor.rowcount
            cursor.execute(f"DROP TABLE {target}")  # now, for a caller's transaction that goes on
        if corrections:
            ids = list(corrections)
            cursor.execute(
                f"UPDATE {table} t SET available = COALESCE(c.available, t.available),"
                " held = COALESCE(c.held, t.held), receivable = COALESCE(c.receivable, t.receivable)"
                " FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[])"
                " AS c (wallet_id, available, held, receivable) WHERE t.wallet_id = c.wallet_id",
                [ids, *([corrections[i].get(account) for i in ids] for account in ("available", "held", "receivable"))],
            )
    return Checkpoint.objects.create(
        run=run,
        changes_from=start.taken_at,
        entry_settled=start.entry_allocated,
        entry_high=seen.entry_high,
        entry_missing=seen.entry_missing,
        posting_settled=start.posting_allocated,
        posting_high=seen.posting_high,
        posting_missing=seen.posting_missing,
        wallets=max(wallets, 0),
        created_at=now,
    )
