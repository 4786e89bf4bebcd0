"""Deposits and withdrawals, their state machines and their state history.

The state fields are django-fsm `protected=True`: nothing but a transition method can
change them, and only the service functions call transition methods, under a row lock.
"""

import secrets

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q, Value
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.ids import uuid7
from core.models import ActorFields
from core.money import CURRENCY_CHOICES, format_amount
from core.unit_of_work import written_by_unit_of_work

_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_reference(prefix: str) -> str:
    """A short reference a player can read out to support, e.g. WD-7KQ2M9XHTC."""
    return prefix + "-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(10))


def new_deposit_reference() -> str:
    return new_reference("DP")


def new_withdrawal_reference() -> str:
    return new_reference("WD")


class DepositState(models.TextChoices):
    CREATED = "created", _("Created")
    PENDING_PROVIDER = "pending_provider", _("Pending at provider")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    # Extensions after the seed's machine (section 16).
    CHARGED_BACK = "charged_back", _("Charged back")
    CHARGEBACK_REVERSED = "chargeback_reversed", _("Chargeback reversed")
    # The card holder's bank disputed again after the casino won (a second or arbitration chargeback).
    CHARGED_BACK_AGAIN = "charged_back_again", _("Charged back again")


class WithdrawalState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELED = "canceled", _("Canceled")
    PAYOUT_PENDING = "payout_pending", _("Payout pending")
    PAYOUT_FAILED = "payout_failed", _("Payout failed")
    PAID = "paid", _("Paid")
    # Extension after the seed's machine (section 16).
    RETURNED = "returned", _("Returned by the bank")


class MoneyTransaction(FSMModelMixin, models.Model):
    """Fields shared by deposits and withdrawals."""

    # Foreign keys are covered by the composite indexes below; single-column FK
    # indexes would only add write cost to every payment. The tenant reference is a
    # denormalized copy of the wallet's (which the database does check), so it
    # carries no constraint of its own: see docs/data-model.md.
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="+", db_index=False)
    wallet = models.ForeignKey("wallet.Wallet", on_delete=models.PROTECT, related_name="+", db_index=False)
    amount = models.BigIntegerField(help_text="Minor units of the currency.")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def amount_display(self) -> str:
        return f"{format_amount(self.amount, self.currency)} {self.currency}"


@written_by_unit_of_work
class Deposit(MoneyTransaction):
    TX_TYPE = "deposit"

    reference = models.CharField(max_length=16, default=new_deposit_reference, editable=False)
    state = FSMField(default=DepositState.CREATED, choices=DepositState.choices, protected=True)
    provider = models.CharField(max_length=32, blank=True)
    provider_reference = models.CharField(max_length=128, blank=True)
    checkout_url = models.URLField(max_length=500, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    payment_method = models.ForeignKey(
        "wallet.PaymentMethod",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # read per player or wallet, never by method alone
        help_text="What the player paid with, as the PSP reported it when the payment succeeded.",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["wallet", "created_at"], name="deposit_wallet_time"),
            models.Index(fields=["tenant", "state", "created_at"], name="deposit_tenant_state_time"),
            models.Index(fields=["player", "-created_at"], name="deposit_player_time"),
            # Incremental reconciliation reads the rows changed since its last checkpoint.
            models.Index(fields=["updated_at"], name="deposit_changed"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="deposit_amount_positive"),
            models.UniqueConstraint(fields=["reference"], name="deposit_reference_unique"),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="deposit_provider_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @transition(field=state, source=DepositState.CREATED, target=DepositState.PENDING_PROVIDER)
    def mark_pending(self):
        """Handed to the provider; the player is at the checkout."""

    @transition(field=state, source=DepositState.PENDING_PROVIDER, target=DepositState.COMPLETED)
    def complete(self):
        """The provider confirmed the money arrived."""

    @transition(field=state, source=DepositState.PENDING_PROVIDER, target=DepositState.FAILED)
    def fail(self):
        """The provider reported the payment failed or was abandoned."""

    @transition(field=state, source=DepositState.COMPLETED, target=DepositState.CHARGED_BACK)
    def charge_back(self):
        """The card holder disputed the payment and the scheme took the money back (section 16)."""

    @transition(field=state, source=DepositState.CHARGED_BACK, target=DepositState.CHARGEBACK_REVERSED)
    def reverse_chargeback(self):
        """The casino won the dispute: the money came back."""

    @transition(field=state, source=DepositState.CHARGEBACK_REVERSED, target=DepositState.CHARGED_BACK_AGAIN)
    def charge_back_again(self):
        """The card holder's bank disputed again after the reversal (a second chargeback); final."""


@written_by_unit_of_work
class Withdrawal(MoneyTransaction):
    TX_TYPE = "withdrawal"

    reference = models.CharField(max_length=16, default=new_withdrawal_reference, editable=False)
    state = FSMField(default=WithdrawalState.REQUESTED, choices=WithdrawalState.choices, protected=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_method = models.ForeignKey(
        "wallet.PaymentMethod",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # read per player or wallet, never by method alone
        help_text="The destination: the payout goes to this method (closed loop, wallet.closed_loop).",
    )
    risk_flags = ArrayField(
        models.CharField(max_length=32),
        default=list,
        db_default=Value([], output_field=ArrayField(models.CharField(max_length=32))),  # raw and bulk inserts too
        blank=True,
        help_text="What finance should look at, computed when it was requested (wallet.risk).",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["wallet", "created_at"], name="withdrawal_wallet_time"),
            models.Index(fields=["tenant", "state", "created_at"], name="withdrawal_tenant_state_time"),
            models.Index(fields=["player", "-created_at"], name="withdrawal_player_time"),
            # Incremental reconciliation reads the rows changed since its last checkpoint.
            models.Index(fields=["updated_at"], name="withdrawal_changed"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="withdrawal_amount_positive"),
            models.UniqueConstraint(fields=["reference"], name="withdrawal_reference_unique"),
        ]

    def __str__(self) -> str:
        return self.reference

    @transition(field=state, source=WithdrawalState.REQUESTED, target=WithdrawalState.APPROVED)
    def approve(self):
        """An operator released the withdrawal for payout."""

    @transition(
        field=state,
        source=[WithdrawalState.REQUESTED, WithdrawalState.PAYOUT_FAILED],
        target=WithdrawalState.REJECTED,
    )
    def reject(self):
        """An operator refused it; the held money goes back to available."""

    @transition(field=state, source=WithdrawalState.REQUESTED, target=WithdrawalState.CANCELED)
    def cancel(self):
        """The player withdrew the request before review."""

    @transition(field=state, source=WithdrawalState.APPROVED, target=WithdrawalState.PAYOUT_PENDING)
    def start_payout(self):
        """The first payout attempt was handed to the provider."""

    @transition(field=state, source=WithdrawalState.APPROVED, target=WithdrawalState.PAID)
    def mark_paid(self):
        """An operator paid it outside the provider (manual payout)."""

    @transition(field=state, source=WithdrawalState.PAYOUT_PENDING, target=WithdrawalState.PAID)
    def confirm_payout(self):
        """The provider reported the payout succeeded."""

    @transition(field=state, source=WithdrawalState.PAYOUT_PENDING, target=WithdrawalState.PAYOUT_FAILED)
    def fail_payout(self):
        """The provider reported the payout failed; the money stays held."""

    @transition(field=state, source=WithdrawalState.PAYOUT_FAILED, target=WithdrawalState.PAYOUT_PENDING)
    def retry_payout(self):
        """A new payout attempt was handed to the provider."""

    @transition(field=state, source=WithdrawalState.PAID, target=WithdrawalState.RETURNED)
    def return_payout(self):
        """The beneficiary's bank sent a paid payout back; the money is the player's again (section 16)."""


@written_by_unit_of_work
class WithdrawalApproval(models.Model):
    """One operator's approval of a withdrawal (the four-eyes rule needs two above a threshold)."""

    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.PROTECT, related_name="approvals")
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["withdrawal", "operator"], name="approval_once_per_operator"),
        ]
        triggers = [
            pgtrigger.Protect(name="approval_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]


class StateTransition(ActorFields):
    """One row per state change, written with the change: the object's timeline."""

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    from_state = models.CharField(max_length=32)
    to_state = models.CharField(max_length=32)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]


@written_by_unit_of_work
class DepositTransition(StateTransition):
    deposit = models.ForeignKey(Deposit, on_delete=models.PROTECT, related_name="transitions")

    class Meta(StateTransition.Meta):
        triggers = [
            pgtrigger.Protect(name="deposit_transition_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]


@written_by_unit_of_work
class WithdrawalTransition(StateTransition):
    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.PROTECT, related_name="transitions")

    class Meta(StateTransition.Meta):
        triggers = [
            pgtrigger.Protect(name="withdrawal_transition_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]
