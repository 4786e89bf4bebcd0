"""The withdrawal review queue and the decisions on it (/api/v1/admin/withdrawals/...).

Roles: viewer reads, finance and admin decide; a platform superuser works across
tenants. Another tenant's id is 404 for every role, before any role check.
"""

import math

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from backoffice import selectors
from core import replica
from core.api import schema
from core.idempotency import idempotent
from tenants.access import OPERATOR_READ_ERRORS, OperatorAPIView
from tenants.operators import FINANCE
from wallet import services

from .serializers import (
    OperatorWithdrawalSerializer,
    QueuePageSerializer,
    QueueQuerySerializer,
    ReasonSerializer,
    SnapshotSerializer,
)

DECISION_ERRORS = schema.error_responses(
    400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429, 500, 503, examples={403: [schema.ACCOUNT_RESTRICTED]}
)
DECISION_DESCRIPTION = (
    "Needs the finance or admin role and a non-blank reason (400 REVIEW_REASON_REQUIRED). "
    "Asking for the state the withdrawal is already in changes nothing (200). Approving, marking paid and "
    "retrying a failed payout are refused while the player owes the casino after a chargeback (403 "
    "PLAYER_ACCOUNT_RESTRICTED); rejecting releases the held money, which repays what is owed first."
)


class WithdrawalQueueView(OperatorAPIView):
    @extend_schema(
        operation_id="admin_withdrawals_list",
        summary="Withdrawal review queue",
        description="Oldest first by default (the SLA queue), with counts per state over the other filters.",
        parameters=[QueueQuerySerializer],
        responses={200: QueuePageSerializer, **schema.error_responses(*OPERATOR_READ_ERRORS)},
        tags=["operator"],
    )
    @replica.reads
    def get(self, request):
        query = QueueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        rows, counts = selectors.withdrawal_queue(self.scope, _queue_filter(params))
        size, page = params["page_size"], params["page"]
        total = rows.count()
        results = rows[(page - 1) * size : page * size]
        return Response(
            {
                "count": total,
                "page": page,
                "pages": max(1, math.ceil(total / size)),
                "counts_by_state": counts,
                "results": OperatorWithdrawalSerializer(results, many=True).data,
            }
        )


def _queue_filter(params) -> selectors.QueueFilter:
    currency = params.get("currency", "")
    bounds = selectors.amount_bounds(currency, min_amount=params.get("min_amount"), max_amount=params.get("max_amount"))
    return selectors.QueueFilter(
        states=params.get("state", ()),
        player=params.get("player", ""),
        currency=currency,
        created_after=params.get("created_after"),
        created_before=params.get("created_before"),
        awaiting_second_approval=params.get("awaiting_second_approval"),
        flags=params.get("flag", ()),
        ordering=params["ordering"],
        **bounds,
    )


class WithdrawalDetailView(OperatorAPIView):
    @extend_schema(
        operation_id="admin_withdrawals_retrieve",
        summary="One withdrawal with everything about it",
        responses={200: SnapshotSerializer, **schema.error_responses(*OPERATOR_READ_ERRORS)},
        tags=["operator"],
    )
    def get(self, request, withdrawal_id):
        withdrawal = selectors.find_withdrawal(self.scope, withdrawal_id)
        if withdrawal is None:
            raise Http404
        return Response(SnapshotSerializer(selectors.snapshot(withdrawal)).data)


class WithdrawalDecisionView(OperatorAPIView):
    """A decision on one withdrawal, with a mandatory reason; subclasses name the service it calls."""

    decision = ""

    def act(self, withdrawal, *, actor, reason):
        raise NotImplementedError

    def idempotency_scope(self, request, withdrawal_id=None, **kwargs) -> tuple[int, int]:
        """A platform user's key is scoped to the withdrawal's tenant, as the tenant's operators' are."""
        tenant_id, caller_id = super().idempotency_scope(request)
        if request.operator.is_platform and withdrawal_id:
            found = selectors.find_withdrawal(request.operator, withdrawal_id)
            tenant_id = found.tenant_id if found else 0
        return tenant_id, caller_id

    def decide(self, request, withdrawal_id):
        # Not found before forbidden: another tenant's id is 404 for every role, never 403.
        withdrawal = selectors.find_withdrawal(self.scope, withdrawal_id)
        if withdrawal is None:
            raise Http404
        self.scope.require(FINANCE, f"{self.decision} withdrawals")
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        self.act(withdrawal, actor=self.actor(), reason=payload.validated_data["reason"])
        return Response(OperatorWithdrawalSerializer(selectors.find_withdrawal(self.scope, withdrawal_id)).data)


def _decision_schema(name: str, summary: str):
    return extend_schema(
        operation_id=f"admin_withdrawals_{name.replace('-', '_')}",
        summary=summary,
        description=DECISION_DESCRIPTION,
        parameters=[schema.IDEMPOTENCY_KEY],
        request=ReasonSerializer,
        responses={200: OperatorWithdrawalSerializer, **DECISION_ERRORS},
        tags=["operator"],
    )


class ApproveWithdrawalView(WithdrawalDecisionView):
    decision = "approve"

    def act(self, withdrawal, *, actor, reason):
        return services.approve_withdrawal(withdrawal, actor=actor, reason=reason)

    @_decision_schema("approve", "Approve (four-eyes above the tenant's amount)")
    @idempotent("admin.withdrawals.approve")
    def post(self, request, withdrawal_id):
        return self.decide(request, withdrawal_id)


class RejectWithdrawalView(WithdrawalDecisionView):
    decision = "reject"

    def act(self, withdrawal, *, actor, reason):
        return services.reject_withdrawal(withdrawal, actor=actor, reason=reason)

    @_decision_schema("reject", "Reject: held money back to available")
    @idempotent("admin.withdrawals.reject")
    def post(self, request, withdrawal_id):
        return self.decide(request, withdrawal_id)


class MarkWithdrawalPaidView(WithdrawalDecisionView):
    decision = "mark-paid"

    def act(self, withdrawal, *, actor, reason):
        return services.mark_withdrawal_paid(withdrawal, actor=actor, reason=reason)

    @_decision_schema("mark-paid", "Record a payout made outside the PSP")
    @idempotent("admin.withdrawals.mark-paid")
    def post(self, request, withdrawal_id):
        return self.decide(request, withdrawal_id)


class RetryWithdrawalPayoutView(WithdrawalDecisionView):
    decision = "retry-payout"

    def act(self, withdrawal, *, actor, reason):
        return services.retry_payout(withdrawal, actor=actor, reason=reason)

    @_decision_schema("retry-payout", "Retry a failed payout (limit and cooldown apply)")
    @idempotent("admin.withdrawals.retry-payout")
    def post(self, request, withdrawal_id):
        return self.decide(request, withdrawal_id)
