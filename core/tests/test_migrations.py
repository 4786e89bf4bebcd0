"""Moving models between apps rewrites no row: a database of the earlier schema migrates forward intact.

The test takes the test database back to the schema before the move (wallet 0004,
payouts 0003: players, the audit trail and payout attempts still in their old apps),
writes rows with the models of that time, migrates forward and reads them back through
today's models, with the append-only trigger still guarding the audit trail.
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from core.models import AuditEvent
from players.models import Player
from wallet.models import PayoutAttempt, Wallet, Withdrawal

BEFORE_THE_MOVE = [
    ("wallet", "0004_console_form_tokens"),
    ("payouts", "0003_attempt_retryable"),
    ("core", None),
    ("players", None),
]


def _triggers_on(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname LIKE 'pgtrigger_%%'", [table]
        )
        return {row[0] for row in cursor.fetchall()}


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def _latest() -> list:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _old_rows(apps) -> dict:
    """A player with a wallet, a withdrawal with a payout attempt and an audit event, as the old apps wrote them."""
    tenant = apps.get_model("tenants", "Tenant").objects.create(
        slug="upgrade", name="Upgrade", allowed_currencies=["EUR"]
    )
    user = apps.get_model("auth", "User").objects.create(username="upgrade-player")
    player = apps.get_model("wallet", "Player").objects.create(tenant=tenant, user=user, display_name="Old player")
    wallet = apps.get_model("wallet", "Wallet").objects.create(tenant=tenant, player=player, currency="EUR")
    withdrawal = apps.get_model("wallet", "Withdrawal").objects.create(
        tenant=tenant, player=player, wallet=wallet, amount=500, currency="EUR", state="payout_pending"
    )
    attempt = apps.get_model("payouts", "PayoutAttempt").objects.create(
        tenant=tenant, withdrawal=withdrawal, number=1, provider="sandbox"
    )
    event = apps.get_model("wallet", "AuditEvent").objects.create(
        tenant=tenant, actor_type="system", actor_label="upgrade", action="test.before_the_move"
    )
    apps.get_model("wallet", "IdempotencyRecord").objects.create(
        tenant=tenant, caller=user, operation="test", key="k", fingerprint="f", created_at=timezone.now()
    )
    return {
        "tenant": tenant.pk,
        "player": player.pk,
        "wallet": wallet.pk,
        "withdrawal": withdrawal.pk,
        "attempt": attempt.pk,
        "event": event.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_earlier_schema_migrates_forward_without_rewriting_a_row():
    player_type = ContentType.objects.get_for_model(Player).pk
    try:
        # given a database at the schema before the move, with rows written by the old models
        executor = _migrate(BEFORE_THE_MOVE)
        old_apps = executor.loader.project_state([node for node in BEFORE_THE_MOVE if node[1]]).apps
        assert ContentType.objects.get(pk=player_type).app_label == "wallet"
        old_triggers = _triggers_on("wallet_auditevent")
        assert len(old_triggers) == 1
        ids = _old_rows(old_apps)
        # when it is migrated forward
        _migrate(_latest())
    finally:
        _migrate(_latest())  # never leave the test database behind at the old schema
    # then today's models read the same rows, with the same ids
    player = Player.objects.get(pk=ids["player"])
    assert (player.display_name, player.tenant_id) == ("Old player", ids["tenant"])
    assert Wallet.objects.get(pk=ids["wallet"]).player == player
    withdrawal = Withdrawal.objects.get(pk=ids["withdrawal"])
    assert withdrawal.player == player
    assert [a.pk for a in withdrawal.payout_attempts.all()] == [ids["attempt"]]
    assert PayoutAttempt.objects.get(pk=ids["attempt"]).retryable is True
    assert AuditEvent.objects.get(pk=ids["event"]).tenant_id == ids["tenant"]
    # and permissions stay attached: the content type was renamed, not replaced
    assert ContentType.objects.get(pk=player_type).app_label == "players"
    # and the audit trail is still append-only, under the trigger's new name only
    new_triggers = _triggers_on("wallet_auditevent")
    assert len(new_triggers) == 1 and new_triggers != old_triggers
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        AuditEvent.objects.filter(pk=ids["event"]).update(action="rewritten")
