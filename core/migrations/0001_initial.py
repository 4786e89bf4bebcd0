"""The platform layer takes over the audit trail, idempotency records and console form tokens.

Their tables stay where they are (wallet_*): the models move in the migration state only,
no row is rewritten. The audit trail's append-only trigger is installed under its new
name here, before wallet.0005 drops the old one, so the table is never unprotected.
"""

import core.models.form_tokens
import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

MOVED = {"auditevent": "wallet", "formtoken": "wallet", "idempotencyrecord": "wallet"}


def rename_content_types(apps, schema_editor):
    """Keep permissions and admin history attached to the moved models (none exist on a new database)."""
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, old_app in MOVED.items():
        if not content_type.objects.filter(app_label="core", model=model).exists():
            content_type.objects.filter(app_label=old_app, model=model).update(app_label="core")


def restore_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, old_app in MOVED.items():
        content_type.objects.filter(app_label="core", model=model).update(app_label=old_app)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wallet", "0004_console_form_tokens"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="FormToken",
                    fields=[
                        (
                            "token",
                            models.CharField(
                                default=core.models.form_tokens.new_form_token,
                                max_length=64,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        (
                            "purpose",
                            models.CharField(
                                help_text="What the form does, e.g. withdrawal.approve:<id>.", max_length=64
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("used_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "wallet_formtoken",
                    },
                ),
                migrations.CreateModel(
                    name="IdempotencyRecord",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "tenant_id",
                            models.BigIntegerField(help_text="The tenant the caller acts for (0: a platform user)."),
                        ),
                        ("operation", models.CharField(max_length=64)),
                        ("key", models.CharField(max_length=255)),
                        (
                            "fingerprint",
                            models.CharField(help_text="SHA-256 of method, path and canonical body.", max_length=64),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[("in_progress", "In progress"), ("completed", "Completed")],
                                default="in_progress",
                                max_length=16,
                            ),
                        ),
                        ("response_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                        (
                            "response_body",
                            models.TextField(blank=True, help_text="The exact bytes sent, so a replay is identical."),
                        ),
                        ("response_content_type", models.CharField(blank=True, max_length=64)),
                        (
                            "recovery_point",
                            models.CharField(
                                blank=True,
                                help_text="Phased operations: what the first try already committed (an id).",
                                max_length=64,
                            ),
                        ),
                        ("created_at", models.DateTimeField()),
                        ("completed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "caller",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "wallet_idempotencyrecord",
                    },
                ),
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "actor_type",
                            models.CharField(
                                choices=[
                                    ("operator", "Operator"),
                                    ("player", "Player"),
                                    ("psp", "Payment provider"),
                                    ("system", "System"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("actor_label", models.CharField(blank=True, max_length=150)),
                        ("tenant_id", models.BigIntegerField(blank=True, null=True)),
                        ("action", models.CharField(max_length=64)),
                        ("target_type", models.CharField(blank=True, max_length=32)),
                        ("target_id", models.CharField(blank=True, max_length=64)),
                        ("reason", models.TextField(blank=True)),
                        ("before_state", models.CharField(blank=True, max_length=32)),
                        ("after_state", models.CharField(blank=True, max_length=32)),
                        ("data", models.JSONField(blank=True, default=dict)),
                        ("request_id", models.CharField(blank=True, max_length=64)),
                        ("ip", models.GenericIPAddressField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "actor_user",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                db_index=False,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "wallet_auditevent",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(fields=["tenant_id", "-created_at"], name="audit_tenant_time"),
                            models.Index(fields=["target_type", "target_id"], name="audit_target"),
                            models.Index(fields=["tenant_id", "action", "-created_at"], name="audit_tenant_action"),
                        ],
                    },
                ),
                migrations.AddIndex(
                    model_name="formtoken",
                    index=models.Index(fields=["created_at"], name="form_token_created"),
                ),
                migrations.AddIndex(
                    model_name="idempotencyrecord",
                    index=models.Index(fields=["created_at"], name="idempotency_created"),
                ),
                migrations.AddConstraint(
                    model_name="idempotencyrecord",
                    constraint=models.UniqueConstraint(
                        fields=("tenant_id", "caller", "operation", "key"), name="idempotency_key_scope"
                    ),
                ),
            ],
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="auditevent",
            trigger=pgtrigger.compiler.Trigger(
                name="audit_append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="30fb940a63ee5cbcbdbed22bfbb8a468bc26f3a4",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_audit_append_only_b1f7b",
                    table="wallet_auditevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.RunPython(rename_content_types, restore_content_types),
    ]
