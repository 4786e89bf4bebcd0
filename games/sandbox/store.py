"""The game's own records, in a SQLite file of its own (never the casino's database).

`calls`: every money call the game made (bet, win, rollback), with the exact body it sent,
so that a retry resends the very same body under the same transaction_id, and with the
answer it got; the daily report is read from here. `rounds`: every spin, with the seed
that decided it, so its outcome can be recomputed (`rng.outcome(seed, round_id)`).

A call is `pending` until the casino answers 200 (`ok`) or 4xx (`refused`); a bet the
casino never answered is `unresolved` (the game rolls it back instead of resending it);
a win or rollback still unanswered after every retry is `failed`. `next_attempt_at` is
the lease that keeps the spin that made a call and the background resender from
sending it at the same time.
"""

import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    transaction_id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('bet', 'win', 'rollback')),
    round_id TEXT NOT NULL,
    session_token TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reference_transaction_id TEXT,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    http_status INTEGER,
    error_code TEXT,
    balance TEXT,
    wallet_transaction_id TEXT,
    created_at TEXT NOT NULL,
    answered_at TEXT,
    next_attempt_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_due ON calls (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS calls_answered ON calls (answered_at);
CREATE TABLE IF NOT EXISTS rounds (
    round_id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    session_token TEXT NOT NULL,
    currency TEXT NOT NULL,
    bet INTEGER NOT NULL,
    win INTEGER,
    reels TEXT,
    multiplier INTEGER,
    seed TEXT NOT NULL,
    state TEXT NOT NULL,
    error_code TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rounds_session ON rounds (session_token, created_at);
"""

LEASE = timedelta(minutes=2)


def now() -> datetime:
    return datetime.now(tz=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass
class Call:
    transaction_id: str
    provider: str
    kind: str
    round_id: str
    session_token: str
    amount: int
    currency: str
    reference_transaction_id: str | None
    message_id: str
    body: str
    status: str
    attempts: int
    http_status: int | None
    error_code: str | None
    balance: str | None
    wallet_transaction_id: str | None
    created_at: str
    answered_at: str | None
    next_attempt_at: str


class Store:
    """One connection, shared by the server's threads under a lock: SQLite serializes writes
    anyway, and opening a connection per statement would checkpoint the WAL on every close."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL under WAL: a crash of the game loses nothing committed; a power cut may lose the
        # last writes, which a sandbox can afford.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _connect(self):
        with self._lock:
            yield self._db

    @contextmanager
    def _write(self):
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- calls ------------------------------------------------------------------------

    def add_call(self, call: Call) -> None:
        with self._write() as db:
            fields = list(Call.__dataclass_fields__)
            db.execute(
                f"INSERT INTO calls ({', '.join(fields)}) VALUES ({', '.join('?' * len(fields))})",
                [getattr(call, name) for name in fields],
            )

    def call(self, transaction_id: str) -> Call | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM calls WHERE transaction_id = ?", (transaction_id,)).fetchone()
        return Call(**dict(row)) if row else None

    def record_attempt(self, transaction_id: str) -> None:
        with self._write() as db:
            db.execute("UPDATE calls SET attempts = attempts + 1 WHERE transaction_id = ?", (transaction_id,))

    def record_answer(self, transaction_id: str, *, status: str, http_status: int | None, answer: dict) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE calls SET status = ?, http_status = ?, error_code = ?, balance = ?, wallet_transaction_id = ?,"
                " answered_at = ? WHERE transaction_id = ?",
                (
                    status,
                    http_status,
                    answer.get("error_code"),
                    _text(answer.get("balance")),
                    _text(answer.get("wallet_transaction_id")),
                    iso(now()),
                    transaction_id,
                ),
            )

    def set_status(self, transaction_id: str, status: str, *, next_attempt_at: datetime | None = None) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE calls SET status = ?, next_attempt_at = COALESCE(?, next_attempt_at) WHERE transaction_id = ?",
                (status, iso(next_attempt_at) if next_attempt_at else None, transaction_id),
            )

    def claim_due(self, *, limit: int = 20, at: datetime | None = None) -> list[Call]:
        """Pending calls whose time has come, leased to the caller (nobody else sends them meanwhile)."""
        at = at or now()
        with self._write() as db:
            rows = db.execute(
                "SELECT * FROM calls WHERE status = 'pending' AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at LIMIT ?",
                (iso(at), limit),
            ).fetchall()
            db.executemany(
                "UPDATE calls SET next_attempt_at = ? WHERE transaction_id = ?",
                [(iso(at + LEASE), row["transaction_id"]) for row in rows],
            )
        return [Call(**dict(row)) for row in rows]

    def answered_on(self, day: date, provider: str | None = None) -> list[Call]:
        """Calls the casino answered 200 on `day` (UTC), oldest first."""
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        query = "SELECT * FROM calls WHERE status = 'ok' AND answered_at >= ? AND answered_at < ?"
        params: list = [iso(start), iso(start + timedelta(days=1))]
        if provider:
            query += " AND provider = ?"
            params.append(provider)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY answered_at, transaction_id", params).fetchall()
        return [Call(**dict(row)) for row in rows]

    def calls_of_round(self, round_id: str) -> list[Call]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM calls WHERE round_id = ? ORDER BY created_at", (round_id,)).fetchall()
        return [Call(**dict(row)) for row in rows]

    # -- rounds -----------------------------------------------------------------------

    def add_round(self, **values) -> None:
        values.setdefault("created_at", iso(now()))
        with self._write() as db:
            db.execute(
                f"INSERT INTO rounds ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                list(values.values()),
            )

    def update_round(self, round_id: str, **values) -> None:
        with self._write() as db:
            db.execute(
                f"UPDATE rounds SET {', '.join(f'{name} = ?' for name in values)} WHERE round_id = ?",
                [*values.values(), round_id],
            )

    def round(self, round_id: str) -> dict | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM rounds WHERE round_id = ?", (round_id,)).fetchone()
        return dict(row) if row else None

    def recent_rounds(self, session_token: str, limit: int = 10) -> list[dict]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM rounds WHERE session_token = ? ORDER BY created_at DESC LIMIT ?", (session_token, limit)
            ).fetchall()
        return [dict(row) for row in rows]


def _text(value) -> str | None:
    return None if value is None else str(value)
