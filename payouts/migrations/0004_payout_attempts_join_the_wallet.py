"""Payout attempts belong to the withdrawal aggregate now (wallet.0005); state-only, the table stays."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0003_attempt_retryable"),
        ("wallet", "0005_platform_players_and_payout_attempts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="webhookevent",
                    name="payout_attempt",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="webhook_events",
                        to="wallet.payoutattempt",
                    ),
                ),
                migrations.DeleteModel(name="PayoutAttempt"),
            ],
        ),
    ]
