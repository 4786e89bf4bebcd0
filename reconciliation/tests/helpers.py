"""Corrupting books on purpose, and reading what a run found.

Corruption is raw SQL that bypasses the services, the way a bad migration, a manual
fix-up in psql or a bug in a new code path would. The database refuses most of it
(append-only triggers, unique constraints, the deferred balance trigger), so a test
switches those off inside its own transaction first; DDL is transactional in
PostgreSQL, and the test's rollback puts everything back.
"""

from django.db import connection

from core.actors import Actor
from players.tests.factories import PlayerFactory
from reconciliation.models import Finding
from reconciliation.services import run_reconciliation
from wallet.models import PayoutAttempt, Withdrawal
from wallet.services import approve_withdrawal, record_payout_succeeded, start_payout
from wallet.tests.builders import AMOUNT, PSP, REASON, SYSTEM, operator_of, withdraw
from wallet.tests.factories import fund

SCRIPT = Actor.system("tests")


def sql(statement: str, params=()) -> list[tuple] | None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def allow_rewriting_history(*tables: str) -> None:
    """Switch off the append-only and balance triggers of `tables` for this test's transaction."""
    settle_deferred_checks()
    for table in tables:
        sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")


def settle_deferred_checks() -> None:
    """Run the deferred checks (foreign keys, entry balance) now: ALTER TABLE refuses pending ones."""
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    sql("SET CONSTRAINTS ALL DEFERRED")


def drop_constraint(table: str, name: str) -> None:
    """Drop a unique constraint or index for this test's transaction (Django builds partial ones as indexes)."""
    settle_deferred_checks()
    if sql("SELECT 1 FROM pg_constraint WHERE conname = %s", [name]):
        sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    else:
        sql(f"DROP INDEX {name}")


def add_entry(*, event_type: str, withdrawal=None, deposit=None, legs: list[tuple[str, int | None, int]]) -> int:
    """Insert a journal entry with postings (account, wallet_id, amount) behind the services' back."""
    source = withdrawal or deposit
    (entry_id,) = sql(
        "INSERT INTO wallet_journalentry (tenant_id, currency, event_type, deposit_id, withdrawal_id, created_at)"
        " VALUES (%s, %s, %s, %s, %s, now()) RETURNING id",
        [source.tenant_id, source.currency, event_type, getattr(deposit, "pk", None), getattr(withdrawal, "pk", None)],
    )[0]
    for account, wallet_id, amount in legs:
        sql(
            "INSERT INTO wallet_posting (entry_id, tenant_id, account, wallet_id, amount) VALUES (%s, %s, %s, %s, %s)",
            [entry_id, source.tenant_id, account, wallet_id, amount],
        )
    return entry_id


def paid_through_psp(player=None, amount: int = AMOUNT) -> tuple[Withdrawal, PayoutAttempt]:
    """A withdrawal paid the PSP way: approved, payout attempt opened, the PSP reported success."""
    player = player or PlayerFactory()
    fund(player, amount)
    withdrawal = withdraw(player, amount)
    approve_withdrawal(withdrawal, actor=operator_of(player.tenant), reason=REASON)
    attempt = start_payout(withdrawal, actor=SYSTEM, provider="sandbox")
    record_payout_succeeded(attempt, actor=PSP, provider_reference=f"po_{attempt.pk.hex[:12]}")
    return Withdrawal.objects.get(pk=withdrawal.pk), PayoutAttempt.objects.get(pk=attempt.pk)


def reconcile(tenant=None, **options):
    return run_reconciliation(tenant, actor=SCRIPT, **options)


def found(run) -> set[tuple]:
    """(type, object_type, object_id) of each finding of the run."""
    return set(Finding.objects.filter(run=run).values_list("type", "object_type", "object_id"))


def finding(run, finding_type: str, **filters) -> Finding:
    return Finding.objects.get(run=run, type=finding_type, **filters)
