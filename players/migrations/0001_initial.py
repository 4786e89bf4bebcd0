"""The player account gets its own app; its table stays wallet_player (state-only move, no row rewritten)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def rename_content_type(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="players", model="player").exists():
        content_type.objects.filter(app_label="wallet", model="player").update(app_label="players")


def restore_content_type(apps, schema_editor):
    apps.get_model("contenttypes", "ContentType").objects.filter(app_label="players", model="player").update(
        app_label="wallet"
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("tenants", "0003_stuck_thresholds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wallet", "0004_console_form_tokens"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Player",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "external_ref",
                            models.CharField(
                                blank=True, help_text="The casino platform's own id for this player.", max_length=64
                            ),
                        ),
                        ("display_name", models.CharField(blank=True, max_length=120)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "tenant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="players", to="tenants.tenant"
                            ),
                        ),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="player",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "wallet_player",
                        "ordering": ["tenant", "id"],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("external_ref", ""), _negated=True),
                                fields=("tenant", "external_ref"),
                                name="player_external_ref_unique_per_tenant",
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(rename_content_type, restore_content_type),
    ]
