"""Reads for operators: the withdrawal review queue, transaction snapshots, the audit trail.

Every read goes through an OperatorScope, so a tenant's operator never sees another
tenant's rows. Shared by the operator API and the console.

The queue and the audit trail read from `core.replica.read_alias()`: the replica in a
view that opted in with `@replica.reads` (the lists), the primary everywhere else (the
withdrawal page and the decisions, which act on what they read).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import BigIntegerField, Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from core.errors import ValidationFailed
from core.ids import whole_number
from core.models import AuditEvent
from core.money import AmountError, parse_amount
from core.replica import read_alias
from payouts.models import WebhookEvent
from tenants.models import CurrencyLimit
from tenants.operators import OperatorScope
from wallet.models import Deposit, JournalEntry, PayoutAttempt, Wallet, Withdrawal, WithdrawalApproval, WithdrawalState

QUEUE_ORDERINGS = ("created_at", "-created_at", "amount", "-amount")


@dataclass(frozen=True)
class QueueFilter:
    states: tuple[str, ...] = ()
    player: str = ""
    currency: str = ""
    min_amount: int | None = None
    max_amount: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    awaiting_second_approval: bool | None = None
    flags: tuple[str, ...] = ()  # risk flags: withdrawals carrying any of them
    ordering: str = "created_at"


def amount_bounds(currency: str, **texts: str | None) -> dict[str, int]:
    """Parse the queue's amount filters (min_amount, max_amount) as decimal text of `currency`.

    One parser for the console form and the operator API: missing bounds are left out,
    a bound without a currency or with bad text is a ValidationFailed naming the field.
    """
    bounds, errors = {}, {}
    for name, text in texts.items():
        if text in (None, ""):
            continue
        if not currency:
            errors[name] = [gettext("Choose a currency to filter by amount.")]
            continue
        try:
            bounds[name] = parse_amount(text, currency)
        except AmountError as error:
            errors[name] = [str(error)]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, errors=errors)
    return bounds


def withdrawals_for(scope: OperatorScope):
    """The operator's withdrawals, each with its approvals and the four-eyes flag."""
    four_eyes = CurrencyLimit.objects.filter(
        policy__tenant_id=OuterRef("tenant_id"), currency=OuterRef("currency")
    ).values("four_eyes_amount")[:1]
    # Subqueries rather than a join + COUNT, so the queue can be grouped by state as well.
    approvals = (
        WithdrawalApproval.objects.filter(withdrawal=OuterRef("pk"))
        .order_by()
        .values("withdrawal")
        .annotate(n=Count("id"))
        .values("n")
    )
    approvers = WithdrawalApproval.objects.filter(withdrawal=OuterRef("pk")).order_by("created_at", "id")
    queryset = (
        scope.filter(Withdrawal.objects.using(read_alias()))
        .select_related("player__user", "tenant", "payment_method")
        .annotate(
            approval_count=Coalesce(Subquery(approvals, output_field=IntegerField()), Value(0)),
            approved_by=ArraySubquery(approvers.values("operator__username")),
            approver_ids=ArraySubquery(approvers.values("operator_id")),
            four_eyes_amount=Subquery(four_eyes, output_field=BigIntegerField()),
        )
        .annotate(
            approvals_required=Case(
                When(four_eyes_amount__isnull=False, amount__gte=Coalesce("four_eyes_amount", Value(0)), then=Value(2)),
                default=Value(1),
            ),
        )
    )
    return queryset.annotate(
        awaiting_second_approval=Case(
            When(
                Q(state=WithdrawalState.REQUESTED, approval_count__gte=1, approvals_required=2),
                then=Value(True),
            ),
            default=Value(False),
        )
    )


def withdrawal_queue(scope: OperatorScope, filters: QueueFilter):
    """(page-able queryset, counts per state) for the review queue."""
    base = withdrawals_for(scope)
    if filters.player:
        term = filters.player.strip()
        match = Q(player__user__username__icontains=term) | Q(player__display_name__icontains=term)
        if whole_number(term) is not None:
            match |= Q(player_id=whole_number(term))
        base = base.filter(match)
    if filters.currency:
        base = base.filter(currency=filters.currency)
    if filters.min_amount is not None:
        base = base.filter(amount__gte=filters.min_amount)
    if filters.max_amount is not None:
        base = base.filter(amount__lte=filters.max_amount)
    if filters.created_after:
        base = base.filter(created_at__gte=filters.created_after)
    if filters.created_before:
        base = base.filter(created_at__lt=filters.created_before)
    if filters.awaiting_second_approval is not None:
        base = base.filter(awaiting_second_approval=filters.awaiting_second_approval)
    if filters.flags:
        base = base.filter(risk_flags__overlap=list(filters.flags))
    counts = {row["state"]: row["n"] for row in base.order_by().values("state").annotate(n=Count("id"))}
    rows = base.filter(state__in=filters.states) if filters.states else base
    ordering = filters.ordering if filters.ordering in QUEUE_ORDERINGS else "created_at"
    return rows.order_by(ordering, "id"), counts


def find_withdrawal(scope: OperatorScope, withdrawal_id):
    """One withdrawal of the operator's tenant, or None (unknown ids and other tenants alike)."""
    pk = _uuid(withdrawal_id)
    return None if pk is None else withdrawals_for(scope).filter(pk=pk).first()


def find_transaction(scope: OperatorScope, tx_id):
    """A deposit or withdrawal of the operator's tenant, or None."""
    pk = _uuid(tx_id)
    if pk is None:
        return None
    for model in (Withdrawal, Deposit):
        found = (
            scope.filter(model.objects.select_related("player__user", "tenant", "payment_method")).filter(pk=pk).first()
        )
        if found is not None:
            return found
    return None


def snapshot(tx) -> dict:
    """Everything about one transaction an investigator needs, in one place."""
    source = {tx.TX_TYPE: tx}
    entries = JournalEntry.objects.filter(**source).prefetch_related("postings").order_by("id")
    target_ids = [str(tx.pk)]
    attempts = []
    if tx.TX_TYPE == "withdrawal":
        attempts = list(PayoutAttempt.objects.filter(withdrawal=tx).order_by("number"))
        target_ids += [str(a.pk) for a in attempts]
        webhooks = WebhookEvent.objects.filter(payout_attempt__withdrawal=tx)
        approvals = list(WithdrawalApproval.objects.filter(withdrawal=tx).order_by("created_at"))
    else:
        webhooks = WebhookEvent.objects.filter(deposit=tx)
        approvals = []
    return {
        "transaction": tx,
        "wallet": Wallet.objects.filter(pk=tx.wallet_id).first(),
        "history": list(tx.transitions.order_by("created_at", "id")),
        "approvals": approvals,
        "ledger_entries": list(entries),
        "payout_attempts": attempts,
        "webhook_events": list(webhooks.order_by("received_at", "id")),
        "audit_events": list(
            AuditEvent.objects.filter(tenant_id=tx.tenant_id, target_id__in=target_ids).order_by("created_at", "id")
        ),
    }


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor_type: str = ""
    actor: str = ""
    target_type: str = ""
    target_id: str = ""
    created_after: datetime | None = None
    created_before: datetime | None = None


def audit_events(scope: OperatorScope, filters: AuditFilter, *, before_id: int | None = None):
    """The audit trail, newest first, as a keyset-paginated queryset (by id)."""
    rows = scope.filter(AuditEvent.objects.using(read_alias()))
    if filters.action:  # "withdrawal." matches every withdrawal action
        if filters.action.endswith("."):
            rows = rows.filter(action__startswith=filters.action)
        else:
            rows = rows.filter(action=filters.action)
    if filters.actor_type:
        rows = rows.filter(actor_type=filters.actor_type)
    if filters.actor:
        rows = rows.filter(actor_label__icontains=filters.actor)
    if filters.target_type:
        rows = rows.filter(target_type=filters.target_type)
    if filters.target_id:
        rows = rows.filter(target_id=filters.target_id)
    if filters.created_after:
        rows = rows.filter(created_at__gte=filters.created_after)
    if filters.created_before:
        rows = rows.filter(created_at__lt=filters.created_before)
    if before_id is not None:
        rows = rows.filter(id__lt=before_id)
    return rows.order_by("-id")


def _uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None
