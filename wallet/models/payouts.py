"""Payout attempts: each is one request to the PSP to pay out a withdrawal.

Part of the withdrawal aggregate: its transitions (start, succeed, fail, retry) move
the attempt and the withdrawal together, under the withdrawal's lock.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.ids import uuid7
from core.unit_of_work import written_by_unit_of_work

from .transactions import Withdrawal


@written_by_unit_of_work
class PayoutAttempt(models.Model):
    """One try at paying a withdrawal through the PSP.

    Its id is the idempotency key sent to the PSP, so re-sending the same attempt
    (a retried task, a worker killed mid-call) can never pay twice. At most one
    attempt per withdrawal may succeed; a partial unique index enforces it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    withdrawal = models.ForeignKey(
        Withdrawal, on_delete=models.PROTECT, related_name="payout_attempts", db_index=False
    )  # indexed by the unique (withdrawal, number)
    number = models.PositiveSmallIntegerField(help_text="1 for the first attempt of the withdrawal, then 2, 3 ...")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    provider = models.CharField(max_length=32, blank=True)
    provider_reference = models.CharField(max_length=128, blank=True)
    failure_reason = models.TextField(blank=True)
    dispatch_count = models.PositiveIntegerField(
        default=0, help_text="Times this attempt was sent to the PSP (same idempotency key each time)."
    )
    outcome_unknown = models.BooleanField(
        default=False, help_text="The last send timed out: ask the PSP before doing anything else."
    )
    last_error = models.TextField(blank=True)
    retryable = models.BooleanField(
        default=True,
        db_default=True,
        help_text="False when the PSP refused the payout itself: no automatic retry after it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payouts_payoutattempt"  # its table since before the wallet owned payout transitions
        ordering = ["withdrawal", "number"]
        indexes = [models.Index(fields=["tenant", "status", "created_at"], name="payout_tenant_status_time")]
        constraints = [
            models.UniqueConstraint(fields=["withdrawal", "number"], name="payout_attempt_number_unique"),
            models.UniqueConstraint(
                fields=["withdrawal"], condition=Q(status="succeeded"), name="payout_one_success_per_withdrawal"
            ),
            models.UniqueConstraint(
                fields=["withdrawal"], condition=Q(status="pending"), name="payout_one_pending_per_withdrawal"
            ),
        ]

    def __str__(self) -> str:
        return f"Payout attempt {self.number} of {self.withdrawal_id}"

    @property
    def is_final(self) -> bool:
        return self.status != self.Status.PENDING
