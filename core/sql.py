"""Small helpers for the hot paths that read rows with plain SQL and build model instances.

The ORM costs more Python per query than PostgreSQL spends answering it; on the
paths every payment takes (authentication, row locks) we write the SQL and still
hand model instances to the rest of the code.
"""

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection


@cache
def select_list(model, alias: str) -> str:
    """`alias.col1, alias.col2, ...` for every concrete field of `model`."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)


@cache
def _attnames(model) -> list[str]:
    converted = [f.name for f in model._meta.concrete_fields if hasattr(f, "from_db_value")]
    if converted:  # from_db() skips field converters, so such fields would come back raw
        raise TypeError(f"{model.__name__} fields {converted} need the ORM to load them")
    return [f.attname for f in model._meta.concrete_fields]


def width(model) -> int:
    return len(_attnames(model))


def instance_from(model, row, offset: int = 0):
    """Build a `model` instance from `row[offset:offset + width]`; None if its id is NULL."""
    names = _attnames(model)
    values = row[offset : offset + len(names)]
    pk_index = names.index(model._meta.pk.attname)
    if values[pk_index] is None:
        return None
    return model.from_db(DEFAULT_DB_ALIAS, names, values)


def lock_row(model, where: str, params: list):
    """SELECT .. FOR UPDATE one row of `model` as an instance, or None."""
    return select_row(model, where, params, lock=True)


def select_row(model, where: str, params: list, *, lock: bool = False):
    """SELECT one row of `model` as an instance (FOR UPDATE if `lock`), or None."""
    locking = " FOR UPDATE" if lock else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select_list(model, 't')} FROM {model._meta.db_table} t WHERE {where}{locking}", params)
        row = cursor.fetchone()
    return None if row is None else instance_from(model, row)
