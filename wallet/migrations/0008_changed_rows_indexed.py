"""Deposits and withdrawals indexed by their last change, for incremental reconciliation.

Built CONCURRENTLY: on a live database the tables keep taking payments while the
indexes are built (which is why this migration is not atomic).
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("wallet", "0007_game_house_account"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="deposit",
            index=models.Index(fields=["updated_at"], name="deposit_changed"),
        ),
        AddIndexConcurrently(
            model_name="withdrawal",
            index=models.Index(fields=["updated_at"], name="withdrawal_changed"),
        ),
    ]
