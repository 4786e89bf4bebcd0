"""One service call's writes, sent to PostgreSQL as a single statement.

A service decides in Python what happens (state checks, limits, funds) and collects
what must be written: new rows (the transaction, journal entry, postings, state
history, audit event), updated rows and balance changes. `flush()` sends them as one
statement of data-modifying CTEs, inside the service's transaction and after its row
locks. One round trip instead of eight keeps the wallet lock short and the CPU cost
per payment low; constraints and triggers still check every row.

It bypasses the ORM, so it is fenced rather than trusted:
- only models declared with @written_by_unit_of_work are written, and a start-up
  check (core.E001/E002) proves they have no custom save() and no save or init
  signal receivers, which this path would silently skip;
- two updates of one row in one flush are refused: PostgreSQL would apply only one
  of them (data-modifying CTEs all see the same snapshot);
- flush() runs only inside transaction.atomic, where the service's row locks live;
- a failing statement names the step (and model) it came from.
"""

import logging
from functools import cache

import psycopg
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.db.models import AutoField, BigAutoField, Model
from django.db.models.signals import post_init, post_save, pre_init, pre_save
from django.utils import timezone

log = logging.getLogger(__name__)

_AUTO_PK = (AutoField, BigAutoField)
_FENCED: set[type] = set()


class UnitOfWorkMisuse(RuntimeError):
    """A programming error: the unit of work was asked for something it cannot do right."""


def written_by_unit_of_work(model: type) -> type:
    """Class decorator: `model` is written through the unit of work (checked at start-up)."""
    _FENCED.add(model)
    return model


def fenced_models() -> set[type]:
    return set(_FENCED)


def _ensure_fenced(model) -> None:
    if model not in _FENCED:
        raise UnitOfWorkMisuse(
            f"{model.__name__} is not declared @written_by_unit_of_work; declare it so the start-up check covers it."
        )


@checks.register("unit_of_work")
def check_fenced_models(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Models written by the unit of work must not rely on save() or signals: it bypasses both."""
    problems = []
    for model in sorted(_FENCED, key=lambda m: m._meta.label):
        if model.save is not Model.save:
            problems.append(
                checks.Error(
                    f"{model._meta.label} defines save(), which the unit of work never calls.",
                    hint="Move the logic into the service, or stop writing the model through the unit of work.",
                    obj=model,
                    id="core.E001",
                )
            )
        receivers = [s for s in (pre_init, post_init, pre_save, post_save) if s.has_listeners(model)]
        if receivers:
            problems.append(
                checks.Error(
                    f"{model._meta.label} has signal receivers ({len(receivers)} signal(s)) the unit of work never "
                    "sends.",
                    hint="Do the work in the service function instead of a receiver.",
                    obj=model,
                    id="core.E002",
                )
            )
    return problems


def refuse_to_start_unfenced() -> None:
    """Run the fence check where Django's system checks do not run (web server and Celery workers)."""
    problems = [message for message in check_fenced_models() if message.is_serious()]
    if problems:
        raise ImproperlyConfigured("; ".join(f"{p.id}: {p.msg}" for p in problems))


# psycopg keeps a parsed statement only up to this many parameters; a service's single
# write statement has about 55, and parsing it anew costs ~0.2 ms a call. The limit is a
# private constant, so it is raised only on the psycopg versions we have checked it in.
PSYCOPG_STATEMENT_CACHE_CHECKED = ((3, 1), (3, 4))  # [from, until)
STATEMENT_CACHE_PARAMS = 200


def raise_psycopg_statement_cache_limit(version: str | None = None) -> bool:
    """Let psycopg cache the unit of work's statement; False (and a warning) where unchecked."""
    version = version or psycopg.__version__
    major_minor = tuple(int(part) for part in version.split(".")[:2])
    low, high = PSYCOPG_STATEMENT_CACHE_CHECKED
    from psycopg import _queries

    if not (low <= major_minor < high) or not hasattr(_queries, "MAX_CACHED_STATEMENT_PARAMS"):
        log.warning("psycopg %s is not checked for the statement cache limit; leaving it as it is", version)
        return False
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, STATEMENT_CACHE_PARAMS)
    return True


@cache
def _insert_plan(model, returning_id: bool) -> tuple[list, str]:
    """The fields and INSERT statement of a model, built once per process."""
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not (f.primary_key and isinstance(f, _AUTO_PK))]
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    returning = f" RETURNING {quote(meta.pk.column)}" if returning_id else ""
    return fields, f"INSERT INTO {meta.db_table} ({columns}) VALUES ({marks}){returning}"


@cache
def _values_plan(model, attnames: tuple[str, ...]) -> tuple[list, str]:
    quote = connection.ops.quote_name
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_attname[name] for name in attnames]
    columns = ", ".join(quote(f.column) for f in fields)
    return fields, f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"


class UnitOfWork:
    def __init__(self):
        self.now = timezone.now()
        self._steps: list[tuple[str, list, str, str]] = []  # (sql, params, label, table)
        self._updated: set[tuple[str, object]] = set()
        self._wallets: dict[int, object] = {}
        self._wallet_deltas: dict[int, list[int]] = {}
        self._wallet_model = None

    def __len__(self) -> int:
        return len(self._steps) + len(self._wallet_deltas)

    def add_step(self, sql: str, params: list, *, model, step: str) -> str:
        """Queue one data-modifying statement on `model`'s table; returns its CTE name for later steps."""
        _ensure_fenced(model)
        name = f"s{len(self._steps)}"
        self._steps.append((sql, params, step, model._meta.db_table))
        return name

    def insert(self, obj, *, returning_id: bool = False) -> str:
        """Queue an INSERT of a new model instance (auto_now fields and defaults applied)."""
        model = type(obj)
        fields, sql = _insert_plan(model, returning_id)
        db = connections[DEFAULT_DB_ALIAS]
        values = [f.get_db_prep_save(f.pre_save(obj, add=True), db) for f in fields]
        obj._state.adding = False
        obj._state.db = DEFAULT_DB_ALIAS
        return self.add_step(sql, values, model=model, step=f"insert {model.__name__}")

    def insert_values(self, model, values: dict, *, step: str = "") -> str:
        """Queue an INSERT from {attname: value} without building a model instance.

        For append-only rows nobody reads back in the same call (history, audit):
        Model.__init__ is a visible share of a payment's CPU.
        """
        fields, sql = _values_plan(model, tuple(values))
        db = connections[DEFAULT_DB_ALIAS]
        params = [f.get_db_prep_save(values[f.attname], db) for f in fields]
        return self.add_step(sql, params, model=model, step=step or f"insert {model.__name__}")

    def update(self, obj, fields: tuple[str, ...]) -> str:
        """Queue an UPDATE of `fields` of an existing row (auto_now fields refreshed); once per row."""
        meta = obj._meta
        row = (meta.db_table, obj.pk)
        if row in self._updated:
            raise UnitOfWorkMisuse(
                f"A second update of {meta.object_name} {obj.pk} in one flush; PostgreSQL would apply only one. "
                "Set every field first, then update the row once."
            )
        self._updated.add(row)
        db = connections[DEFAULT_DB_ALIAS]
        names = list(fields) + [f.name for f in meta.concrete_fields if getattr(f, "auto_now", False)]
        assignments, values = [], []
        for name in dict.fromkeys(names):
            field = meta.get_field(name)
            values.append(field.get_db_prep_save(field.pre_save(obj, add=False), db))
            assignments.append(f"{db.ops.quote_name(field.column)} = %s")
        values.append(obj.pk)
        pk_column = connection.ops.quote_name(meta.pk.column)
        sql = f"UPDATE {meta.db_table} SET {', '.join(assignments)} WHERE {pk_column} = %s"
        return self.add_step(sql, values, model=type(obj), step=f"update {meta.object_name} {obj.pk}")

    def change_balance(self, wallet, *, available: int = 0, held: int = 0, receivable: int = 0) -> None:
        """Move a locked wallet's balances; one UPDATE per wallet is sent at flush."""
        wallet.balance_available += available
        wallet.balance_held += held
        if receivable:
            wallet.balance_receivable += receivable
        wallet.updated_at = self.now
        delta = self._wallet_deltas.setdefault(wallet.pk, [0, 0, 0])
        delta[0] += available
        delta[1] += held
        delta[2] += receivable
        self._wallets[wallet.pk] = wallet
        self._wallet_model = type(wallet)

    def flush(self) -> None:
        """Send everything queued as one statement, inside the caller's transaction."""
        if not connection.in_atomic_block:
            raise UnitOfWorkMisuse("flush() outside transaction.atomic(): the service's row locks are not held.")
        for wallet_id, (available, held, receivable) in self._wallet_deltas.items():
            self._queue_balance_update(wallet_id, available, held, receivable)
        self._wallet_deltas.clear()
        if not self._steps:
            return
        parts, params = [], []
        for index, (sql, step_params, _label, _table) in enumerate(self._steps):
            parts.append(f"s{index} AS ({sql})")
            params.extend(step_params)
        steps, self._steps = self._steps, []
        self._updated.clear()
        try:
            with connection.cursor() as cursor:
                cursor.execute("WITH " + ", ".join(parts) + " SELECT 1", params)
        except DatabaseError as error:
            raise type(error)(f"{_failing_steps(error, steps)}: {error}") from error

    def _queue_balance_update(self, wallet_id, available: int, held: int, receivable: int = 0) -> None:
        model = self._wallet_model
        table = model._meta.db_table
        if (table, wallet_id) in self._updated:
            raise UnitOfWorkMisuse(f"Wallet {wallet_id} was updated and had its balance changed in one flush.")
        self._updated.add((table, wallet_id))
        # The receivable (section 16) moves rarely: the statement of every other payment stays as it was.
        owed = ", balance_receivable = balance_receivable + %s" if receivable else ""
        self.add_step(
            f"UPDATE {table} SET balance_available = balance_available + %s, "
            f"balance_held = balance_held + %s{owed}, updated_at = %s WHERE id = %s",
            [available, held, *([receivable] if receivable else []), self.now, wallet_id],
            model=model,
            step=f"balance of wallet {wallet_id}",
        )


def _failing_steps(error: DatabaseError, steps: list) -> str:
    """Which queued steps the database refused: by the table its diagnostics name, else all of them."""
    diag = getattr(error.__cause__, "diag", None)
    table = getattr(diag, "table_name", None)
    constraint = getattr(diag, "constraint_name", None)
    named = [label for _sql, _params, label, step_table in steps if table and step_table == table]
    where = f" (constraint {constraint})" if constraint else ""
    if named:
        return f"unit of work step {' / '.join(named)} failed{where}"
    return f"unit of work failed in one of: {', '.join(label for *_rest, label, _t in steps)}{where}"
