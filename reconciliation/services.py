"""Reconciliation runs and the operator's acts on their findings.

A run, for one tenant or all of them:

1. takes the scope's advisory lock (session level): an all-tenants run excludes every
   other run, a tenant run excludes runs of its tenant and all-tenants runs. A run
   that cannot take it is refused with RECONCILIATION_RUN_IN_PROGRESS (409), or waits
   up to `wait_seconds`. Holding the lock also proves that runs of the scope still
   marked `running` were left by a crashed process; they are closed as failed.
2. records the run (`running`) and its audit event, and commits;
3. reads the PSP settlement reports and the game providers' daily reports if asked
   (network calls, outside any transaction);
4. runs every check in ONE REPEATABLE READ, READ ONLY transaction: each is one SQL
   statement over the whole dataset (a full run) or over what changed since the last
   checkpoint (an incremental run, reconciliation.checkpoint), and all of them see the
   same snapshot, on one server: the streaming replica if it has replayed everything the
   primary had committed when the checks start (core.replica.snapshot_server), else the
   primary (always the primary for a run that writes a checkpoint); if the replica fails
   during the checks they run again on the primary;
5. stores the findings (COPY), the counts and the audit event in one transaction, and
   for an all-tenants run its checkpoint (the snapshot's marks and every wallet's
   ledger sums, carried forward by the next incremental run);
6. after commit, alerts (log and e-mail to the tenant's admins) when there are findings.

Modes: `full` reads every row; `incremental` reads what changed since the last
checkpoint, and runs as `full` when there is none. The nightly schedule runs
incremental, a weekly one full. Both give the same finding (type, object, key) for
the same disagreement in what they read; an incremental run does not see a row
changed behind the services' back without its `updated_at` (an old posting rewritten,
say): the next full run does.

The number of SQL statements of a run does not depend on the number of rows checked
or found. Runs are idempotent: the same books give the same findings, each with a
stable `key`; a key already acknowledged in an earlier run stays acknowledged, one
that was resolved and comes back is open again. A run with a `key` (e.g. the nightly
run's date) happens once: asking again returns the run that succeeded.
"""

import logging
import time
from collections import Counter
from contextlib import contextmanager
from datetime import date

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from core import replica
from core.actors import Actor, ActorType
from core.audit import record_event, record_in_own_transaction
from core.errors import NotFound, PermissionDenied, ReviewReasonRequired, ValidationFailed
from core.unit_of_work import UnitOfWork
from reconciliation import alerts, checkpoint, checks, game_report, settlement
from reconciliation.checks import CheckResult, Found, Scope
from reconciliation.errors import IllegalFindingStateTransition, ReconciliationRunInProgress
from reconciliation.models import Finding, ReconciliationRun
from tenants.models import Tenant
from tenants.operators import FINANCE, scope_of

log = logging.getLogger(__name__)

Status = ReconciliationRun.Status
Trigger = ReconciliationRun.Trigger
Mode = ReconciliationRun.Mode

# Advisory lock keys (two-int form, apart from the one-bigint keys of idempotency).
LOCK_CLASS = 0x5245434F  # "RECO"
ALL_TENANTS = 0
WORK_MEM = getattr(settings, "RECONCILIATION_WORK_MEM", "256MB")
# Database sessions the checks are spread over, all on one snapshot (1: the run's own session only).
SESSIONS = int(getattr(settings, "RECONCILIATION_SESSIONS", 2))


def run_reconciliation(
    tenant=None,
    *,
    actor: Actor,
    triggered_by: str = Trigger.SHELL,
    settlement_date: date | None = None,
    settlement_file: str | None = None,
    key: str = "",
    wait_seconds: float = 0.0,
    sessions: int | None = None,
    mode: str = Mode.FULL,
) -> ReconciliationRun:
    """Check one tenant's books (or every tenant's) and record the run with its findings.

    `settlement_date` also compares that UTC day's PSP settlement report, fetched from
    each tenant's PSP account, or read from `settlement_file` (one tenant only), and each
    game provider account's daily report (reconciliation.game_report).
    `sessions` (default RECONCILIATION_SESSIONS, 2) spreads the checks over that many
    database sessions sharing the run's snapshot. `mode` is `full` (every row) or
    `incremental` (what changed since the last checkpoint; full when there is none).
    """
    if mode not in Mode.values:
        raise ValidationFailed(f"Unknown mode {mode!r}.", errors={"mode": [f"One of: {', '.join(Mode.values)}."]})
    tenant_id = None if tenant is None else int(getattr(tenant, "pk", tenant))
    _ensure_may_run(actor, tenant_id)
    if tenant_id is not None and not Tenant.objects.filter(pk=tenant_id).exists():
        raise NotFound("No such tenant.")
    if settlement_date is not None and settlement_date > timezone.now().date():
        raise ValidationFailed(
            "A settlement report is of a UTC day that has begun: not a later one.",
            errors={"settlement_date": ["After today (UTC)."]},
        )
    if settlement_file and (tenant_id is None or settlement_date is None):
        raise ValidationFailed(
            "A settlement file belongs to one tenant and one day: give the tenant and the settlement date.",
            errors={"settlement_file": ["Needs a tenant and a settlement date."]},
        )
    try:
        with scope_lock(tenant_id, wait_seconds=wait_seconds):
            return _run_locked(
                tenant_id,
                actor=actor,
                triggered_by=triggered_by,
                settlement_date=settlement_date,
                settlement_file=settlement_file,
                key=key,
                sessions=SESSIONS if sessions is None else sessions,
                mode=mode,
            )
    except ReconciliationRunInProgress as refusal:
        record_in_own_transaction(
            tenant=tenant_id,
            actor=actor,
            action="reconciliation.run_refused",
            reason=refusal.detail,
            data={"error_code": refusal.error_code, "scope": _scope_name(tenant_id), "trigger": str(triggered_by)},
        )
        raise


def _run_locked(tenant_id, *, actor, triggered_by, settlement_date, settlement_file, key, sessions, mode):
    if key:
        done = ReconciliationRun.objects.filter(key=key, status=Status.SUCCEEDED).first()
        if done is not None:
            return done
    _close_abandoned(tenant_id, actor=actor)
    last = checkpoint.latest() if mode == Mode.INCREMENTAL else None
    since = checkpoint.since(last, tenant_id) if last is not None else None
    run = _start(
        tenant_id,
        actor=actor,
        triggered_by=triggered_by,
        settlement_date=settlement_date,
        key=key,
        mode=Mode.INCREMENTAL if since is not None else Mode.FULL,
    )
    try:
        reports = _settlement_reports(tenant_id, settlement_date, settlement_file)
        game_reports = game_report.fetch_reports(tenant_id, settlement_date) if settlement_date else []
        scope = Scope(tenant_id=tenant_id, as_of=run.started_at, since=since)
        # Only all-tenants runs write checkpoints, and only when every id up to the boundary is settled.
        start = checkpoint.boundary() if tenant_id is None else None
        settled = start is not None and checkpoint.settle(start)
        started = time.perf_counter()
        settings = session_settings(full=not scope.incremental)

        def check(alias):
            with snapshot(start, settings, alias=alias) as (exported, seen):
                todo = list(checks.CHECKS)
                # The checkpoint's totals: a full run takes them from the wallet check's own reading.
                if settled and (scope.incremental or checks.wallet_balances in todo):
                    todo.append(checks.ledger_totals)
                if settlement_date is not None:
                    todo.append(_settlement_check(reports, settlement_date))
                    todo.append(game_report.check(game_reports, settlement_date))
                found = checks.run_checks(scope, todo, snapshot_id=exported, sessions=sessions, settings=settings)
                return found, exported, seen

        # A run that writes a checkpoint reads the primary: the checkpoint's marks are the
        # primary's transaction ids and ledger positions. Others may read a caught-up replica.
        server = replica.snapshot_server() if start is None else replica.PRIMARY
        (results, exported, seen), server = replica.fall_back(check, server, "a reconciliation run")
        snapshot_seconds = time.perf_counter() - started
        used = sessions if exported is not None else 1
        ran = {
            "requested_mode": str(mode),
            "since_checkpoint": since.checkpoint_id if since else None,
            "start": start,
            "seen": seen,
            "settled": settled,
            "database": server,
        }
        return _finish(run, results, reports, snapshot_seconds, used, ran, actor=actor)
    except Exception as error:
        _fail(run, error, actor=actor)
        raise


def _scope_name(tenant_id) -> str:
    return "all" if tenant_id is None else f"tenant:{tenant_id}"


def _ensure_may_run(actor: Actor, tenant_id) -> None:
    """An operator reconciles their own tenant; platform superusers and the system any scope."""
    if actor.type != ActorType.OPERATOR:
        return
    operator = scope_of(actor.user)
    if operator is not None and operator.is_platform:
        return
    if tenant_id is None:
        raise PermissionDenied("Only platform administrators can reconcile every tenant at once.")
    if operator is None or operator.tenant.pk != tenant_id:
        raise NotFound("No such tenant.")


# --- overlap safety ----------------------------------------------------------------------------


def _lock_keys(tenant_id) -> list[tuple[str, int]]:
    if tenant_id is None:
        return [("", ALL_TENANTS)]
    return [("_shared", ALL_TENANTS), ("", int(tenant_id) % 2**31)]


@contextmanager
def scope_lock(tenant_id, *, wait_seconds: float = 0.0):
    """Hold the advisory lock(s) of a run's scope on this session, or raise ReconciliationRunInProgress.

    All-tenants: exclusive on the global key. One tenant: shared on the global key
    (tenant runs of different tenants go side by side) and exclusive on the tenant's.
    """
    keys = _lock_keys(tenant_id)
    deadline = time.monotonic() + wait_seconds
    while not _try_lock(keys):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ReconciliationRunInProgress(
                "Another reconciliation run over this scope is in progress; try again when it has finished.",
                scope=_scope_name(tenant_id),
            )
        time.sleep(min(0.5, remaining))
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                unlocks = ", ".join(f"pg_advisory_unlock{mode}(%s, %s)" for mode, _ in keys)
                cursor.execute(f"SELECT {unlocks}", [v for _, objid in keys for v in (LOCK_CLASS, objid)])
        except DatabaseError:  # a lost connection took its session locks with it
            log.warning("Could not release the reconciliation lock of %s", _scope_name(tenant_id), exc_info=True)


def _try_lock(keys: list[tuple[str, int]]) -> bool:
    """Take every key or none, in one statement."""
    (first_mode, first), *rest = keys
    sql = f"pg_try_advisory_lock{first_mode}(%s, %s)"
    params = [LOCK_CLASS, first]
    if rest:
        ((mode, objid),) = rest
        sql = (
            f"CASE WHEN {sql} THEN CASE WHEN pg_try_advisory_lock{mode}(%s, %s) THEN true"
            f" ELSE NOT pg_advisory_unlock{first_mode}(%s, %s) END ELSE false END"
        )
        params += [LOCK_CLASS, objid, LOCK_CLASS, first]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        return cursor.fetchone()[0]


def _close_abandoned(tenant_id, *, actor: Actor) -> None:
    """Runs of this scope still `running` while we hold its lock were left by a crashed process."""
    overlapping = ReconciliationRun.objects.filter(status=Status.RUNNING)
    if tenant_id is not None:
        overlapping = overlapping.filter(Q(tenant_id=tenant_id) | Q(tenant__isnull=True))
    with transaction.atomic():
        for run in overlapping.select_for_update():
            run.status, run.finished_at = Status.FAILED, timezone.now()
            run.error = "Abandoned: the process running it stopped before it finished."
            run.save(update_fields=["status", "finished_at", "error"])
            uow = UnitOfWork()
            record_event(
                tenant=run.tenant_id,
                actor=actor,
                action="reconciliation.run_abandoned",
                target=run,
                before=Status.RUNNING,
                after=Status.FAILED,
                uow=uow,
            )
            uow.flush()


# --- a run -------------------------------------------------------------------------------------


def _start(tenant_id, *, actor: Actor, triggered_by: str, settlement_date, key: str, mode: str) -> ReconciliationRun:
    try:
        with transaction.atomic():
            run = ReconciliationRun.objects.create(
                tenant_id=tenant_id,
                status=Status.RUNNING,
                triggered_by=triggered_by,
                mode=mode,
                key=key,
                settlement_date=settlement_date,
                started_at=timezone.now(),
                actor_type=str(actor.type),
                actor_user_id=actor.user_id,
                actor_label=actor.label[:150],
            )
            uow = UnitOfWork()
            record_event(
                tenant=tenant_id,
                actor=actor,
                action="reconciliation.run_started",
                target=run,
                after=Status.RUNNING,
                data={
                    "scope": run.scope,
                    "trigger": str(triggered_by),
                    "mode": str(mode),
                    "settlement_date": settlement_date.isoformat() if settlement_date else None,
                    "key": key,
                },
                uow=uow,
            )
            uow.flush()
            return run
    except IntegrityError as error:
        if key and "recon_run_key_once" in str(error):  # the same key is running in another scope
            raise ReconciliationRunInProgress(f"A reconciliation run with key {key} is in progress.", key=key) from None
        raise


def _settlement_check(reports, day):
    def settlement_check(scope: Scope) -> list[Found]:
        return settlement.compare(reports, day, scope)

    settlement_check.__name__ = "settlement"
    return settlement_check


def _settlement_reports(tenant_id, day, path) -> list[settlement.SettlementReport]:
    if day is None:
        return []
    if path:
        return [settlement.read_file(tenant_id, day, path)]
    return settlement.fetch_reports(tenant_id, day)


def session_settings(*, full: bool) -> dict[str, str]:
    """PostgreSQL settings of a run's sessions.

    Aggregates over millions of postings stay in memory instead of spilling; no JIT:
    compiling each check's expressions costs more than the check itself. A full run
    joins each table's stream with another's in key order (merge joins) rather than
    hashing millions of rows: memory stays flat and the time grows with the rows,
    where a hash of millions of keys gets slower per row as it outgrows the CPU's
    caches (the full run at ten million transactions took 12 x the one at a million
    with hash joins, 9.6 x without). Incremental runs look rows up one by one and keep
    the planner's choice for their small joins.
    """
    settings = {"work_mem": WORK_MEM, "jit": "off"}
    if full:
        settings["enable_hashjoin"] = "off"
    return settings


@contextmanager
def snapshot(
    start: checkpoint.Boundary | None = None, settings: dict[str, str] | None = None, alias: str = replica.PRIMARY
):
    """One REPEATABLE READ, READ ONLY transaction on `alias`: every check sees the same books.

    Yields the exported snapshot's id, which other sessions of the same server can adopt
    while this transaction stays open (the checks read through this server meanwhile:
    core.replica.reading), and what the snapshot sees of the ledger (the checkpoint's
    position). Called inside a caller's transaction (tests do this), it runs in that
    transaction's snapshot instead, as a savepoint, and exports nothing: the caller's
    uncommitted rows are visible to no other session.
    """
    db = connections[alias]
    outermost = not db.in_atomic_block
    if outermost and start is not None:
        with db.cursor() as cursor:
            checkpoint.snapshot_may_start(start, cursor)
    with transaction.atomic(using=alias), replica.reading(alias):
        with db.cursor() as cursor:
            exported = None
            if outermost:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                (exported,) = cursor.fetchone()
            seen = checkpoint.position(cursor, start)
            checks.configure(cursor, settings if settings is not None else session_settings(full=True))
        yield exported, seen


def _finish(run, results: list[CheckResult], reports, snapshot_seconds: float, sessions: int, ran: dict, *, actor):
    found = list({f.key: f for result in results for f in result.findings}.values())
    read = next((r for r in results if r.totals is not None), None)
    now = timezone.now()
    with transaction.atomic():
        written, started = None, time.perf_counter()
        if read is not None:
            corrections = {}
            if read.totals.from_balances:  # the wallets that differ take their ledger's sums
                checked = next(r for r in results if r.name == checks.wallet_balances.__name__)
                corrections = checks.Totals.corrections(checked.findings)
            written = checkpoint.write(run, ran["start"], ran["seen"], read.totals, corrections, now=now)
            wrote = time.perf_counter() - started
            ran["checkpoint_seconds"] = {"read": round(read.seconds, 4), "write": round(wrote, 4)}
        earlier = _latest_earlier_findings(run, [f.key for f in found])
        carried = [_carried(earlier.get(f.key), now) for f in found]
        _copy_findings([_finding_row(run, f, c, now) for f, c in zip(found, carried, strict=True)])
        statuses = Counter(c["status"] for c in carried)
        run.status = Status.SUCCEEDED
        run.finished_at = now
        run.findings_count = len(found)
        run.open_count = statuses[Finding.Status.OPEN]
        run.counts_by_type = dict(sorted(Counter(str(f.type) for f in found).items()))
        run.counts_by_severity = dict(sorted(Counter(str(f.severity) for f in found).items()))
        run.stats = {
            "snapshot_seconds": round(snapshot_seconds, 4),
            "sessions": sessions,
            "database": ran["database"],  # where the snapshot was read: "replica" or "default" (the primary)
            "mode": str(run.mode),
            "requested_mode": ran["requested_mode"],
            "since_checkpoint": ran["since_checkpoint"],
            "checkpoint": _checkpoint_stats(run, written, ran),
            "checks": {
                r.name: {"seconds": round(r.seconds, 4), "findings": len(r.findings), "statements": r.statements}
                for r in results
                if r.totals is None
            },
            "settlement_reports": [
                {"tenant_id": r.tenant_id, "source": r.source, "rows": len(r.rows), "error": r.error} for r in reports
            ],
        }
        run.save(
            update_fields=[
                "status",
                "finished_at",
                "findings_count",
                "open_count",
                "counts_by_type",
                "counts_by_severity",
                "stats",
            ]
        )
        uow = UnitOfWork()
        record_event(
            tenant=run.tenant_id,
            actor=actor,
            action="reconciliation.run_succeeded",
            target=run,
            before=Status.RUNNING,
            after=Status.SUCCEEDED,
            data={
                "findings": run.findings_count,
                "open": run.open_count,
                "counts_by_type": run.counts_by_type,
                "mode": str(run.mode),
                "checkpoint": written.pk if written else None,
            },
            uow=uow,
        )
        uow.flush()
        if found:
            transaction.on_commit(lambda: alerts.notify(run, found), robust=True)
    return run


def _checkpoint_stats(run, written, ran: dict) -> dict:
    """What the run left for the next incremental one, or why nothing."""
    if written is not None:
        return {"id": written.pk, "wallets": written.wallets, "seconds": ran["checkpoint_seconds"]}
    if run.tenant_id is not None:
        return {"id": None, "reason": "only all-tenants runs write checkpoints"}
    if not ran["settled"]:
        return {"id": None, "reason": "a transaction older than the run stayed open: ids not settled"}
    return {"id": None, "reason": "the run did not check the wallets"}


def _fail(run, error: Exception, *, actor: Actor) -> None:
    """Record the failure; if the database itself is gone, the next run closes this one as abandoned."""
    detail = f"{type(error).__name__}: {error}"[:2000]
    try:
        _record_failure(run, detail, actor=actor)
    except DatabaseError:
        log.exception("Could not record the failure of reconciliation run %s", run.pk)
    alerts.log_failure(run, detail)


def _record_failure(run, detail: str, *, actor: Actor) -> None:
    with transaction.atomic():
        ReconciliationRun.objects.filter(pk=run.pk).update(
            status=Status.FAILED, finished_at=timezone.now(), error=detail
        )
        uow = UnitOfWork()
        record_event(
            tenant=run.tenant_id,
            actor=actor,
            action="reconciliation.run_failed",
            target=run,
            before=Status.RUNNING,
            after=Status.FAILED,
            reason=detail,
            uow=uow,
        )
        uow.flush()


def _latest_earlier_findings(run, keys: list[str]) -> dict[str, dict]:
    """The last finding of each key before this run (one query), to carry acknowledgements over."""
    if not keys:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT ON (key) key, status, note, acted_by_id, acted_by_label, acted_at, first_seen_at"
            " FROM reconciliation_finding WHERE key = ANY(%s) AND run_id <> %s ORDER BY key, id DESC",
            [keys, run.pk],
        )
        columns = [c.name for c in cursor.description]
        return {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}


_COPY_COLUMNS = (
    "run_id, tenant_id, type, severity, object_type, object_id, key, expected, actual, detail,"
    " status, note, acted_by_id, acted_by_label, acted_at, first_seen_at, created_at"
)


def _carried(earlier: dict | None, now) -> dict:
    """What a new finding takes from the last one with its key: an acknowledgement, and since when it is seen."""
    fresh = {"status": Finding.Status.OPEN, "note": "", "acted_by_id": None, "acted_by_label": "", "acted_at": None}
    if earlier is None:
        return {**fresh, "first_seen_at": now, "reopened": False}
    if earlier["status"] == Finding.Status.RESOLVED:  # it was fixed, and is back
        return {**fresh, "first_seen_at": now, "reopened": True}
    if earlier["status"] == Finding.Status.ACKNOWLEDGED:
        kept = ("status", "note", "acted_by_id", "acted_by_label", "acted_at")
        return {**{name: earlier[name] for name in kept}, "first_seen_at": earlier["first_seen_at"], "reopened": False}
    return {**fresh, "first_seen_at": earlier["first_seen_at"], "reopened": False}


def _finding_row(run, found: Found, carried: dict, now) -> tuple:
    detail = {**found.detail, "reopened": True} if carried["reopened"] else found.detail
    return (
        run.pk,
        found.tenant_id,
        str(found.type),
        str(found.severity),
        found.object_type,
        found.object_id,
        found.key,
        _json(found.expected),
        _json(found.actual),
        _json(detail),
        str(carried["status"]),
        carried["note"],
        carried["acted_by_id"],
        carried["acted_by_label"],
        carried["acted_at"],
        carried["first_seen_at"],
        now,
    )


def _json(value) -> str:
    return DjangoJSONEncoder().encode(value)


def _copy_findings(rows: list[tuple]) -> None:
    """One COPY for any number of findings."""
    if not rows:
        return
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY reconciliation_finding ({_COPY_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


# --- acting on findings ------------------------------------------------------------------------


def acknowledge_finding(finding, *, actor: Actor, note: str = "") -> Finding:
    """Someone is on it: the finding stays listed, and later runs keep it acknowledged."""
    return _act(finding, Finding.Status.ACKNOWLEDGED, actor=actor, note=(note or "").strip())


def resolve_finding(finding, *, actor: Actor, note: str) -> Finding:
    """The cause was found and dealt with; the note says how. A later run that finds it again reopens it."""
    note = (note or "").strip()
    if not note:
        raise ReviewReasonRequired("Say how the finding was resolved.")
    return _act(finding, Finding.Status.RESOLVED, actor=actor, note=note)


def _act(finding, target: str, *, actor: Actor, note: str) -> Finding:
    pk = getattr(finding, "pk", finding)
    with transaction.atomic():
        locked = Finding.objects.select_for_update().filter(pk=pk).first()
        if locked is None:
            raise NotFound("No such finding.")
        _ensure_may_act(actor, locked)
        if locked.status == target:
            return locked  # the same act twice is a no-op
        if locked.status == Finding.Status.RESOLVED:
            raise IllegalFindingStateTransition(from_state=locked.status, to_state=target)
        before = locked.status
        locked.status, locked.note = target, note or locked.note
        locked.acted_by_id, locked.acted_by_label, locked.acted_at = actor.user_id, actor.label[:150], timezone.now()
        locked.save(update_fields=["status", "note", "acted_by", "acted_by_label", "acted_at"])
        uow = UnitOfWork()
        record_event(
            tenant=locked.tenant_id,
            actor=actor,
            action=f"reconciliation.finding_{target}",
            target=locked,
            reason=note,
            before=before,
            after=target,
            data={"run_id": locked.run_id, "type": locked.type, "object": f"{locked.object_type}:{locked.object_id}"},
            uow=uow,
        )
        uow.flush()
        return locked


def _ensure_may_act(actor: Actor, finding: Finding) -> None:
    """Operators act on their own tenant's findings (another tenant's is not found) with a finance role."""
    if actor.type != ActorType.OPERATOR:
        return
    operator = scope_of(actor.user)
    if operator is None or (not operator.is_platform and operator.tenant.pk != finding.tenant_id):
        raise NotFound("No such finding.")
    operator.require(FINANCE, "act on reconciliation findings")
