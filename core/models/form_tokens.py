"""One-time tokens for console forms: a double click or a resubmit acts once."""

import secrets

from django.conf import settings
from django.db import models


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


class FormToken(models.Model):
    """Issued with a confirmation form, spent by the first submission that uses it.

    Spending is one UPDATE ... WHERE used_at IS NULL in the same transaction as the
    action, so of two simultaneous submissions exactly one acts; if the action is
    refused the token is released in that transaction, so it can be confirmed again.
    """

    token = models.CharField(max_length=64, primary_key=True, default=new_form_token)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=64, help_text="What the form does, e.g. withdrawal.approve:<id>.")
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "wallet_formtoken"
        indexes = [models.Index(fields=["created_at"], name="form_token_created")]

    def __str__(self) -> str:
        return f"{self.purpose} ({'used' if self.used_at else 'open'})"
