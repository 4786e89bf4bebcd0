"""What happened: transaction snapshots and the audit trail in the operator API."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.reverse import reverse

from backoffice import selectors
from core import replica
from core.actors import ActorType
from core.api import schema
from core.errors import ValidationFailed
from tenants.access import OPERATOR_READ_ERRORS, OperatorAPIView

from .serializers import AuditEventSerializer, AuditPageSerializer, SnapshotSerializer


class SnapshotView(OperatorAPIView):
    @extend_schema(
        operation_id="admin_transactions_snapshot",
        summary="A deposit or withdrawal with its history, ledger, payouts, webhooks and audit",
        responses={200: SnapshotSerializer, **schema.error_responses(*OPERATOR_READ_ERRORS)},
        tags=["operator"],
    )
    def get(self, request, transaction_id):
        tx = selectors.find_transaction(self.scope, transaction_id)
        if tx is None:
            raise Http404
        return Response(SnapshotSerializer(selectors.snapshot(tx)).data)


class AuditEventListView(OperatorAPIView):
    @extend_schema(
        operation_id="admin_audit_events_list",
        summary="The audit trail, newest first",
        parameters=[
            OpenApiParameter(
                "action", str, description='Exact action, or a prefix ending in "." (e.g. "withdrawal.").'
            ),
            OpenApiParameter("actor_type", str, enum=["operator", "player", "psp", "system"]),
            OpenApiParameter("actor", str, description="Part of the actor's name."),
            OpenApiParameter("target_type", str),
            OpenApiParameter("target_id", str),
            OpenApiParameter("created_after", str, description="ISO 8601 date-time."),
            OpenApiParameter("created_before", str, description="ISO 8601 date-time."),
            OpenApiParameter("before", int, description="Cursor: events older than this id."),
            OpenApiParameter("limit", int, description="1 to 200, default 50."),
        ],
        responses={200: AuditPageSerializer, **schema.error_responses(*OPERATOR_READ_ERRORS)},
        tags=["operator"],
    )
    @replica.reads
    def get(self, request):
        params = request.query_params
        actor_type = params.get("actor_type", "")
        if actor_type and actor_type not in ActorType.values:
            raise ValidationFailed(
                f"actor_type must be one of: {', '.join(ActorType.values)}.", errors={"actor_type": ["Unknown."]}
            )
        filters = selectors.AuditFilter(
            action=params.get("action", ""),
            actor_type=actor_type,
            actor=params.get("actor", ""),
            target_type=params.get("target_type", ""),
            target_id=params.get("target_id", ""),
            created_after=_datetime(params, "created_after"),
            created_before=_datetime(params, "created_before"),
        )
        before = _int(params, "before", minimum=1)
        limit = _int(params, "limit", minimum=1, maximum=200) or 50
        rows = list(selectors.audit_events(self.scope, filters, before_id=before)[: limit + 1])
        page, more = rows[:limit], len(rows) > limit
        next_url = None
        if more:
            query = params.copy()
            query["before"] = str(page[-1].id)
            next_url = reverse("api:admin-audit-events", request=request) + "?" + query.urlencode()
        return Response({"results": AuditEventSerializer(page, many=True).data, "next": next_url})


def _datetime(params, name):
    if not params.get(name):
        return None
    try:
        return serializers.DateTimeField().to_internal_value(params[name])
    except serializers.ValidationError:
        raise ValidationFailed(f"{name} must be an ISO 8601 date-time.", errors={name: ["Not a date-time."]}) from None


def _int(params, name, *, minimum: int, maximum: int | None = None) -> int | None:
    if not params.get(name):
        return None
    try:
        value = int(params[name])
    except ValueError:
        value = None
    if value is None or value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum}" + (f" to {maximum}" if maximum else "")
        raise ValidationFailed(f"{name} must be a whole number {bounds}.", errors={name: ["Out of range."]})
    return value
