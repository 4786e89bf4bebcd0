"""Webhook ids are stored whole (up to 255 characters) and deduplicated per provider account.

Widening a varchar rewrites nothing in PostgreSQL. The new unique constraint is added
before the old one is dropped, so the table is never without one; every pair that was
unique on (provider, event_id) is unique on (tenant, provider, event_id) too. Ids stored
cut to 200 characters before this stay as they are.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0004_payout_attempts_join_the_wallet"),
        ("tenants", "0003_stuck_thresholds"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="webhookevent",
            constraint=models.UniqueConstraint(
                fields=("tenant", "provider", "event_id"), name="webhook_event_once_per_account"
            ),
        ),
        migrations.RemoveConstraint(model_name="webhookevent", name="webhook_event_once"),
        migrations.AlterField(
            model_name="webhookevent",
            name="event_id",
            field=models.CharField(help_text="The webhook-id header, whole.", max_length=255),
        ),
    ]
