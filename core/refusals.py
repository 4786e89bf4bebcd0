"""Refused unauthenticated requests: rate-limited per source address, audited in aggregate.

A bad webhook signature or a failed sign-in costs an attacker nothing, so it must cost us
little and must not grow the append-only audit trail. Per (action, source address, minute):

- A Redis counter counts the refusals. `throttled()` runs before any signature or password
  work and only *reads* it, so a request that turns out valid is never counted; past
  REFUSALS_PER_MINUTE it counts the request and the caller answers 429 without touching
  PostgreSQL. `count()` adds a refusal once it is known; past the limit that one is
  answered 429 too and touches no table, so at most REFUSALS_PER_MINUTE refusals per
  address and minute reach the database.
- Each of those is one UPSERT of a mutable tally row (core.models.RefusalTally): count + 1,
  the first refusal's details kept.
- Once the minute has closed (plus GRACE for requests still in flight), `flush_closed()`
  deletes the row and writes ONE audit event with the final count in the same transaction
  (DELETE ... RETURNING with SKIP LOCKED: two flushers never write one row twice). The
  Redis counter adds the requests answered 429. The Celery beat task
  `core.flush_refusal_tallies` runs it every minute, and the first refusal of each minute
  runs it too, so nothing waits for beat.

Redis down: nothing is throttled (fail open, as the player rate limit does), every refusal
is tallied, and the audit trail still gains at most one event per address and minute;
the aggregate then says its throttled count is unknown (null).
"""

import ipaddress
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.actors import Actor
from core.api.throttling import redis_client
from core.audit import record_event
from core.context import request_context, request_id_var
from core.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

UNKNOWN_SOURCE = "unknown"
# A refusal is tallied under the minute it was counted in; a request that takes longer
# than this between counting and its UPSERT could open a second row for a flushed minute.
GRACE = timedelta(seconds=5)
COUNTER_TTL_SECONDS = 3600  # longer than any flush delay; an expired counter reads as unknown
_TEXT_LIMIT = 255
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # PostgreSQL stores neither in text or jsonb


def clock() -> datetime:
    """Now; tests hold it still so a minute does not end under them."""
    return timezone.now()


def limit() -> int:
    return settings.REFUSALS_PER_MINUTE


@dataclass(frozen=True)
class Refusal:
    """One refusal counted: from whom, when, and how many there were this minute, this one included."""

    action: str
    source: str
    at: datetime
    count: int | None  # None: Redis could not be asked

    @property
    def past_limit(self) -> bool:
        """Answer 429 and write nothing: the tally already has REFUSALS_PER_MINUTE of this minute."""
        return self.count is not None and self.count > limit()

    @property
    def retry_after(self) -> int:
        return _retry_after(self.at)


def throttled(action: str, source: str | None) -> int | None:
    """Seconds to wait when `source` is past the limit for `action` this minute, else None.

    Called before any signature or password work. It only reads the counter; a request it
    throttles is counted (the aggregate reports it), a request it lets through is not.
    """
    now, source = clock(), source or UNKNOWN_SOURCE
    key = _counter_key(action, source, _minute(now))
    try:
        client = redis_client()
        if int(client.get(key) or 0) < limit():
            return None
        _increment(client, key)
    except redis.RedisError:
        return None  # fail open: the tally still bounds the audit trail
    return _retry_after(now)


def count(action: str, source: str | None) -> Refusal:
    """Count one refusal from `source`. If `past_limit`, answer 429 and do not `tally()` it."""
    now, source = clock(), source or UNKNOWN_SOURCE
    try:
        seen = _increment(redis_client(), _counter_key(action, source, _minute(now)))
    except redis.RedisError:
        seen = None
    return Refusal(action, source, now, seen)


def tally(refusal: Refusal, *, tenant_id: int | None, actor: Actor, reason: str, details: dict) -> None:
    """Add `refusal` to its minute's tally row: one UPSERT; the first refusal's reason and details stay."""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO core_refusaltally AS t (action, source, minute, count, tenant_ids, actor_type, actor_label,
                                                   reason, details, request_id, first_at, last_at)
               VALUES (%s, %s, %s, 1, ARRAY[%s]::bigint[], %s, %s, %s, %s::jsonb, %s, %s, %s)
               ON CONFLICT (action, source, minute) DO UPDATE SET
                   count = t.count + 1,
                   last_at = GREATEST(t.last_at, EXCLUDED.last_at),
                   tenant_ids = CASE WHEN EXCLUDED.tenant_ids[1] = ANY (t.tenant_ids) THEN t.tenant_ids
                                     ELSE t.tenant_ids || EXCLUDED.tenant_ids END""",
            [
                refusal.action,
                refusal.source,
                _minute(refusal.at),
                tenant_id or 0,
                str(actor.type),
                actor.label[:150],
                _storable(reason, 1000),
                json.dumps({str(k): _storable(v) for k, v in details.items()}),
                request_id_var.get()[:64],
                refusal.at,
                refusal.at,
            ],
        )
    _flush_once_a_minute(refusal.at)


def flush_closed(*, now: datetime | None = None, batch: int = 500) -> int:
    """Turn every tally row of a closed minute into one audit event and delete it; returns how many.

    Each batch is one transaction: the rows are deleted (RETURNING them) and their events
    written together, so a row becomes exactly one event even with flushers side by side.
    """
    cutoff = _minute((now or clock()) - GRACE)
    written = 0
    while True:
        with transaction.atomic():
            rows = _take_closed(cutoff, batch)
            if not rows:
                return written
            totals = _counter_totals(rows)
            uow = UnitOfWork()
            for row, total in zip(rows, totals, strict=True):
                _record_aggregate(row, total, uow)
            uow.flush()
        written += len(rows)
        if len(rows) < batch:
            return written


@dataclass(frozen=True)
class _Row:
    action: str
    source: str
    minute: datetime
    count: int
    tenant_ids: list
    actor_type: str
    actor_label: str
    reason: str
    details: dict | str
    request_id: str
    first_at: datetime
    last_at: datetime


def _take_closed(cutoff: datetime, batch: int) -> list[_Row]:
    with connection.cursor() as cursor:
        cursor.execute(
            """DELETE FROM core_refusaltally WHERE id IN (
                   SELECT id FROM core_refusaltally WHERE minute < %s ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)
               RETURNING action, source, minute, count, tenant_ids, actor_type, actor_label, reason, details,
                         request_id, first_at, last_at""",
            [cutoff, batch],
        )
        return [_Row(*row) for row in cursor.fetchall()]


def _counter_totals(rows: list[_Row]) -> list[int | None]:
    """Every request of each row's minute the counter saw (tallied and answered 429); None if unknown."""
    try:
        values = redis_client().mget([_counter_key(r.action, r.source, r.minute) for r in rows])
    except redis.RedisError:
        return [None] * len(rows)
    return [None if value is None else max(int(value), row.count) for row, value in zip(rows, values, strict=True)]


def _record_aggregate(row: _Row, total: int | None, uow: UnitOfWork) -> None:
    tenants = sorted(set(row.tenant_ids))
    first = row.details if isinstance(row.details, dict) else json.loads(row.details)
    data = {
        "aggregate": True,
        "source": row.source,
        "minute": row.minute.isoformat(),
        "count": row.count if total is None else total,
        "refused": row.count,
        "throttled": None if total is None else total - row.count,
        "first_at": row.first_at.isoformat(),
        "last_at": row.last_at.isoformat(),
        "first": {**first, "reason": row.reason},
    }
    if len(tenants) > 1:
        data["tenant_ids"] = [t for t in tenants if t]
    with request_context(row.request_id, _ip_or_none(row.source)):
        record_event(
            tenant=tenants[0] if len(tenants) == 1 and tenants[0] else None,
            actor=Actor(row.actor_type, None, row.actor_label),
            action=row.action,
            reason=f"{data['count']} in the minute from {row.source}; the first: {row.reason}",
            data=data,
            uow=uow,
        )


def _flush_once_a_minute(now: datetime) -> None:
    """The first refusal of each minute (once the last one has closed) flushes closed rows itself."""
    if now - _minute(now) < GRACE:
        return
    try:
        claimed = redis_client().set(_flush_claim_key(_minute(now)), 1, nx=True, ex=120)
    except redis.RedisError:
        return  # the beat task flushes
    if claimed:
        try:
            flush_closed(now=now)
        except Exception:  # noqa: BLE001 - a refusal is answered as such; the beat task flushes later
            log.exception("Flushing refusal tallies failed; the beat task will retry")


def delete_counters() -> int:
    """Forget every counter and flush claim (tests, and an operator lifting a block at once)."""
    client = redis_client()
    keys = list(client.scan_iter(match=f"{_prefix()}:*", count=1000))
    return client.delete(*keys) if keys else 0


def _increment(client, key: str) -> int:
    pipe = client.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, COUNTER_TTL_SECONDS)
    return int(pipe.execute()[0])


def _prefix() -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:refusals"


def _counter_key(action: str, source: str, minute: datetime) -> str:
    return f"{_prefix()}:{action}:{source}:{minute:%Y%m%d%H%M}"


def _flush_claim_key(minute: datetime) -> str:
    return f"{_prefix()}:flush:{minute:%Y%m%d%H%M}"


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _retry_after(now: datetime) -> int:
    return max(1, 60 - now.second)


def _storable(value, size: int = _TEXT_LIMIT):
    """Text PostgreSQL can store, cut to `size`: a hostile header must not turn a refusal into a 500."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value[:size])
    return value


def _ip_or_none(source: str) -> str | None:
    try:
        return str(ipaddress.ip_address(source))
    except ValueError:
        return None
