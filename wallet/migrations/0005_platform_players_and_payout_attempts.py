"""Models move between apps in the migration state only; every table keeps its name and rows.

- the audit trail, idempotency records and form tokens now belong to core (core.0001
  installed the audit trail's append-only trigger under its new name; the old one is
  dropped here, after it);
- the player account belongs to players (players.0001); wallets, deposits and
  withdrawals point at it;
- payout attempts join the withdrawal aggregate here (payouts.0004 lets go of them);
  their table stays payouts_payoutattempt.
"""

import django.db.models.deletion
from django.db import migrations, models

import core.ids
import pgtrigger.migrations


def rename_content_type(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="wallet", model="payoutattempt").exists():
        content_type.objects.filter(app_label="payouts", model="payoutattempt").update(app_label="wallet")


def restore_content_type(apps, schema_editor):
    apps.get_model("contenttypes", "ContentType").objects.filter(app_label="wallet", model="payoutattempt").update(
        app_label="payouts"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("players", "0001_initial"),
        ("payouts", "0003_attempt_retryable"),
        ("tenants", "0003_stuck_thresholds"),
        ("wallet", "0004_console_form_tokens"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(model_name="auditevent", name="audit_append_only"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="withdrawal",
                    name="player",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="players.player",
                    ),
                ),
                migrations.AlterField(
                    model_name="deposit",
                    name="player",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="players.player",
                    ),
                ),
                migrations.AlterField(
                    model_name="wallet",
                    name="player",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="wallets", to="players.player"
                    ),
                ),
                migrations.DeleteModel(name="AuditEvent"),
                migrations.DeleteModel(name="FormToken"),
                migrations.DeleteModel(name="IdempotencyRecord"),
                migrations.DeleteModel(name="Player"),
                migrations.CreateModel(
                    name="PayoutAttempt",
                    fields=[
                        ("id", models.UUIDField(default=core.ids.uuid7, editable=False, primary_key=True, serialize=False)),
                        (
                            "number",
                            models.PositiveSmallIntegerField(
                                help_text="1 for the first attempt of the withdrawal, then 2, 3 ..."
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[("pending", "Pending"), ("succeeded", "Succeeded"), ("failed", "Failed")],
                                default="pending",
                                max_length=16,
                            ),
                        ),
                        ("provider", models.CharField(blank=True, max_length=32)),
                        ("provider_reference", models.CharField(blank=True, max_length=128)),
                        ("failure_reason", models.TextField(blank=True)),
                        (
                            "dispatch_count",
                            models.PositiveIntegerField(
                                default=0,
                                help_text="Times this attempt was sent to the PSP (same idempotency key each time).",
                            ),
                        ),
                        (
                            "outcome_unknown",
                            models.BooleanField(
                                default=False,
                                help_text="The last send timed out: ask the PSP before doing anything else.",
                            ),
                        ),
                        ("last_error", models.TextField(blank=True)),
                        (
                            "retryable",
                            models.BooleanField(
                                db_default=True,
                                default=True,
                                help_text="False when the PSP refused the payout itself: no automatic retry after it.",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("dispatched_at", models.DateTimeField(blank=True, null=True)),
                        ("completed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "tenant",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="tenants.tenant",
                            ),
                        ),
                        (
                            "withdrawal",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="payout_attempts",
                                to="wallet.withdrawal",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "payouts_payoutattempt",
                        "ordering": ["withdrawal", "number"],
                        "indexes": [
                            models.Index(fields=["tenant", "status", "created_at"], name="payout_tenant_status_time")
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("withdrawal", "number"), name="payout_attempt_number_unique"
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(("status", "succeeded")),
                                fields=("withdrawal",),
                                name="payout_one_success_per_withdrawal",
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(("status", "pending")),
                                fields=("withdrawal",),
                                name="payout_one_pending_per_withdrawal",
                            ),
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(rename_content_type, restore_content_type),
    ]
