"""Issuing and spending one-time form tokens (see wallet.models.FormToken)."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from core.models import FormToken

TOKEN_LIFETIME = timedelta(hours=2)


def issue(user, purpose: str) -> str:
    return FormToken.objects.create(user=user, purpose=purpose).token


def spend(user, token: str, purpose: str) -> bool:
    """Mark the token used; False if it is unknown, someone else's, for another form, old or spent.

    Call inside the transaction of the action: a concurrent second submission waits
    on this row and then finds it spent.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE wallet_formtoken SET used_at = now() WHERE token = %s AND user_id = %s AND purpose = %s "
            "AND used_at IS NULL AND created_at > %s RETURNING token",
            [token or "", user.pk, purpose, timezone.now() - TOKEN_LIFETIME],
        )
        return cursor.fetchone() is not None


def release(user, token: str, purpose: str) -> None:
    """Make a spent token usable again: the action it was spent on was refused and changed nothing."""
    FormToken.objects.filter(token=token, user=user, purpose=purpose).update(used_at=None)
