"""The history of a player's KYC status: who set what, why, and on which documents."""

import pgtrigger
from django.db import models

from core.models import ActorFields

from .account import KycStatus


class KycCheck(ActorFields):
    """One change of a player's KYC status, by an operator, with a reason and a document reference.

    Append-only (a trigger refuses UPDATE and DELETE): the history regulators ask for.
    """

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="kyc_checks")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    from_status = models.CharField(max_length=16, choices=KycStatus.choices)
    to_status = models.CharField(max_length=16, choices=KycStatus.choices)
    reason = models.TextField()
    document_ref = models.CharField(max_length=200, blank=True, help_text="Where the documents are kept.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        triggers = [pgtrigger.Protect(name="kyc_check_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"KYC {self.from_status} → {self.to_status} for player {self.player_id}"
