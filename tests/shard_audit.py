"""Could the database be split by tenant? What every table says about it (docs/scaling.md).

For each table of the installed models: its tenant path (a `tenant_id` column, or a required
foreign key to a table that has one, or none: a platform table), its unique constraints that
do not stay inside one tenant, its foreign keys to platform tables (references that would
cross shards), its primary key (a per-table sequence, or a UUID) and its triggers (installed
by migrations, so on every shard that is migrated). With a database at hand, `cross_tenant_rows`
counts rows whose foreign key points at another tenant's row: none may exist.

    scripts/local-env.sh .venv/bin/python -m tests.shard_audit [--data]

prints the table (and, with --data, the cross-tenant row counts of the database in DATABASE_URL).
tests/test_shard_readiness.py keeps this audit and docs/scaling.md in step with the models.
"""

import sys
from dataclasses import dataclass, field

TENANT = "tenant_id"


@dataclass
class Table:
    app: str
    name: str
    model: type
    tenant: str  # "tenant_id", "tenant_id (nullable)", "via <fk> -> <table>", or "" (platform)
    pk: str  # "sequence" or "uuid" or "natural"
    global_uniques: list[tuple[str, ...]] = field(default_factory=list)
    platform_references: list[tuple[str, str]] = field(default_factory=list)  # (column, platform table)
    tenant_references: list[tuple[str, str]] = field(default_factory=list)  # (column, tenant table)
    triggers: list[str] = field(default_factory=list)

    @property
    def is_platform(self) -> bool:
        return not self.tenant


def audit() -> list[Table]:
    from django.apps import apps

    models = [m for m in apps.get_models() if not m._meta.proxy]
    paths: dict[type, str] = {}
    for model in models:
        column = _field(model, TENANT)
        if column is not None:
            paths[model] = TENANT + (" (nullable)" if column.null else "")
    for _ in range(3):  # tenant paths through required foreign keys, a few links deep
        for model in models:
            if model in paths:
                continue
            for fk in _foreign_keys(model):
                if not fk.null and fk.related_model in paths and not paths[fk.related_model].endswith("(nullable)"):
                    paths[model] = f"via {fk.column} -> {fk.related_model._meta.db_table}"
                    break
    return [_table(model, paths) for model in models]


def _table(model, paths: dict[type, str]) -> Table:
    meta = model._meta
    tenant = paths.get(model, "")
    table = Table(
        app=meta.app_label,
        name=meta.db_table,
        model=model,
        tenant=tenant,
        pk="uuid" if meta.pk.get_internal_type() == "UUIDField" else _pk_kind(meta.pk),
        triggers=[trigger.name for trigger in getattr(meta, "triggers", [])],
    )
    if not tenant:
        return table
    for fk in _foreign_keys(model):
        target = fk.related_model
        if target not in paths and target._meta.db_table != "tenants_tenant":
            table.platform_references.append((fk.column, target._meta.db_table))
        elif _field(model, TENANT) is not None and _field(target, TENANT) is not None:
            table.tenant_references.append((fk.column, target._meta.db_table))
    for columns in _unique_sets(model):
        if not _within_one_tenant(model, columns, paths):
            table.global_uniques.append(columns)
    return table


def _within_one_tenant(model, columns: tuple[str, ...], paths: dict[type, str]) -> bool:
    """A unique set that names the tenant, or a row of one tenant (a required parent), is per tenant."""
    for name in columns:
        if name in (TENANT, "tenant"):
            return True
        f = _field(model, name)
        if f is not None and f.is_relation and f.related_model is not None:
            path = paths.get(f.related_model, "")
            if f.related_model._meta.db_table == "tenants_tenant" or (path and "nullable" not in path):
                return True
    return False


def _unique_sets(model) -> list[tuple[str, ...]]:
    from django.db.models import UniqueConstraint

    meta = model._meta
    sets = [(f.column,) for f in meta.concrete_fields if f.unique and not f.primary_key]
    sets += [tuple(_field(model, n).column for n in together) for together in meta.unique_together]
    for constraint in meta.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.fields:
            sets.append(tuple(_field(model, n).column for n in constraint.fields))
    return sets


def _field(model, name: str):
    for f in model._meta.concrete_fields:
        if name in (f.name, f.column):
            return f
    return None


def _foreign_keys(model):
    return [f for f in model._meta.concrete_fields if f.is_relation and f.related_model is not None]


def _pk_kind(pk) -> str:
    if pk.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField"):
        return "sequence"
    if pk.is_relation:
        return "parent's"
    return "natural"


def cross_tenant_rows(tables: list[Table] | None = None) -> dict[tuple[str, str], int]:
    """(table, column) -> rows whose foreign key points at a row of another tenant (0 everywhere, or a finding)."""
    from django.db import connection

    counts = {}
    for table in tables or audit():
        for column, target in table.tenant_references:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT count(*) FROM {table.name} c JOIN {target} p ON p.id = c.{column}"
                    " WHERE c.tenant_id IS DISTINCT FROM p.tenant_id AND c.tenant_id IS NOT NULL"
                    " AND p.tenant_id IS NOT NULL"
                )
                counts[(table.name, column)] = cursor.fetchone()[0]
    return counts


def report(tables: list[Table]) -> str:
    lines = [
        "| table | tenant path | pk | unique across tenants | references to platform tables | triggers |",
        "|---|---|---|---|---|---|",
    ]
    for t in sorted(tables, key=lambda t: (t.is_platform, t.app, t.name)):
        lines.append(
            f"| `{t.name}` | {t.tenant or '**none (platform)**'} | {t.pk} "
            f"| {', '.join('(' + ', '.join(u) + ')' for u in t.global_uniques) or '—'} "
            f"| {', '.join(f'{c} → {p}' for c, p in t.platform_references) or '—'} "
            f"| {', '.join(t.triggers) or '—'} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    tables = audit()
    print(report(tables))
    if "--data" in argv:
        print()
        for (table, column), n in sorted(cross_tenant_rows(tables).items()):
            print(f"{table}.{column}: {n} row(s) pointing at another tenant's row")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
