"""The operator API (/api/v1/admin/...): the same services and idempotency as everything else.

Roles: viewer reads, finance decides on withdrawals, admin also edits the payment
policy; a platform superuser works across tenants. Another tenant's id is 404.
"""

import math

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from payouts.services import retry_payout
from tenants.models import PaymentPolicy, Tenant
from tenants.services import LIMIT_FIELDS, policy_as_dict, update_payment_policy
from wallet import operator_selectors as selectors
from wallet import services
from wallet.api import schema
from wallet.api.auth import PlayerTokenAuthentication
from wallet.api.fields import money_text
from wallet.api.idempotency import idempotent
from wallet.api.throttling import PlayerRateThrottle
from wallet.console.access import needs_second_factor
from wallet.errors import ValidationFailed
from wallet.models import Actor
from wallet.models.audit import ActorType
from wallet.money import AmountError, parse_amount
from wallet.operators import ADMIN, FINANCE, scope_of

from .serializers import (
    AuditEventSerializer,
    AuditPageSerializer,
    OperatorWithdrawalSerializer,
    PaymentPolicySerializer,
    QueuePageSerializer,
    QueueQuerySerializer,
    ReasonSerializer,
    SnapshotSerializer,
)

OPERATOR_READ_ERRORS = (400, 401, 403, 404, 405, 406, 429, 500, 503)


class IsOperator(BasePermission):
    message = "This API is for casino operators."

    def has_permission(self, request, view):
        request.operator = scope_of(request.user)
        if request.operator is None:
            return False
        if isinstance(request.successful_authenticator, SessionAuthentication) and needs_second_factor(request.user):
            # A console session counts only once the sign-in is complete (password and TOTP).
            self.message = "Finish signing in with your second factor first."
            return False
        return True


class OperatorAPIView(APIView):
    authentication_classes = [PlayerTokenAuthentication, SessionAuthentication]
    permission_classes = [IsOperator]
    throttle_classes = [PlayerRateThrottle]

    @property
    def scope(self):
        return self.request.operator

    def actor(self) -> Actor:
        return Actor.operator(self.request.user)

    def idempotency_scope(self, request, withdrawal_id=None, **kwargs) -> tuple[int, int]:
        tenant_id = request.operator.tenant.pk if request.operator.tenant else 0
        if request.operator.is_platform and withdrawal_id:
            found = selectors.find_withdrawal(request.operator, withdrawal_id)
            tenant_id = found.tenant_id if found else 0
        return tenant_id, request.user.pk


class WithdrawalQueueView(OperatorAPIView):
    @extend_schema(
        operation_id="admin_withdrawals_list",
        summary="Withdrawal review queue",
        description="Oldest first by default (the SLA queue), with counts per state over the other filters.",
        parameters=[QueueQuerySerializer],
        responses={200: QueuePageSerializer, **schema.error_responses(*OPERATOR_READ_ERRORS)},
        tags=["operator"],
    )
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
    bounds = {}
    for name in ("min_amount", "max_amount"):
        if params.get(name) is None:
            continue
        if not currency:
            raise ValidationFailed("Give a currency with amount filters.", errors={name: ["Needs currency."]})
        try:
            bounds[name] = parse_amount(params[name], currency)
        except AmountError as error:
            raise ValidationFailed(str(error), errors={name: [str(error)]}) from None
    return selectors.QueueFilter(
        states=params.get("state", ()),
        player=params.get("player", ""),
        currency=currency,
        created_after=params.get("created_after"),
        created_before=params.get("created_before"),
        awaiting_second_approval=params.get("awaiting_second_approval"),
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
    """approve | reject | mark-paid | retry-payout, each with a mandatory reason."""

    decision = ""
    act = None

    def post(self, request, withdrawal_id):
        # Not found before forbidden: another tenant's id is 404 for every role, never 403.
        withdrawal = selectors.find_withdrawal(self.scope, withdrawal_id)
        if withdrawal is None:
            raise Http404
        self.scope.require(FINANCE, f"{self.decision} withdrawals")
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        type(self).act(withdrawal, actor=self.actor(), reason=payload.validated_data["reason"])
        return Response(OperatorWithdrawalSerializer(selectors.find_withdrawal(self.scope, withdrawal_id)).data)


def _decision_view(name: str, act, summary: str):
    errors = schema.error_responses(400, 401, 403, 404, 405, 406, 409, 415, 422, 429, 500, 503)

    class View(WithdrawalDecisionView):
        decision = name

        @extend_schema(
            operation_id=f"admin_withdrawals_{name.replace('-', '_')}",
            summary=summary,
            description=(
                "Needs the finance or admin role and a non-blank reason (400 REVIEW_REASON_REQUIRED). "
                "Asking for the state the withdrawal is already in changes nothing (200)."
            ),
            parameters=[schema.IDEMPOTENCY_KEY],
            request=ReasonSerializer,
            responses={200: OperatorWithdrawalSerializer, **errors},
            tags=["operator"],
        )
        @idempotent(f"admin.withdrawals.{name}")
        def post(self, request, withdrawal_id):
            return super().post(request, withdrawal_id)

    View.act = staticmethod(act)
    View.__name__ = View.__qualname__ = f"Withdrawal{name.title().replace('-', '')}View"
    return View


ApproveView = _decision_view("approve", services.approve_withdrawal, "Approve (four-eyes above the tenant's amount)")
RejectView = _decision_view("reject", services.reject_withdrawal, "Reject: held money back to available")
MarkPaidView = _decision_view("mark-paid", services.mark_withdrawal_paid, "Record a payout made outside the PSP")
RetryPayoutView = _decision_view("retry-payout", retry_payout, "Retry a failed payout (limit and cooldown apply)")


TENANT_PARAM = OpenApiParameter("tenant", str, description="Platform superusers: the tenant's slug.")


class PaymentPolicyView(OperatorAPIView):
    def tenant(self) -> Tenant:
        if not self.scope.is_platform:
            return self.scope.tenant
        slug = self.request.query_params.get("tenant", "")
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise ValidationFailed("Platform users name the tenant: ?tenant=<slug>.", errors={"tenant": ["Required."]})
        return tenant

    @extend_schema(
        operation_id="admin_payment_policy_retrieve",
        summary="The tenant's payment policy",
        parameters=[TENANT_PARAM],
        responses={200: PaymentPolicySerializer, **schema.error_responses(*OPERATOR_READ_ERRORS)},
        tags=["operator"],
    )
    def get(self, request):
        tenant = self.tenant()
        policy = PaymentPolicy.objects.filter(tenant=tenant).first() or PaymentPolicy(tenant=tenant)
        return Response(_policy_json(tenant, policy))

    @extend_schema(
        operation_id="admin_payment_policy_update",
        summary="Replace the tenant's payment policy (admin role; audited before and after)",
        parameters=[TENANT_PARAM],
        request=PaymentPolicySerializer,
        responses={
            200: PaymentPolicySerializer,
            **schema.error_responses(400, 401, 403, 404, 405, 406, 415, 429, 500, 503),
        },
        tags=["operator"],
    )
    def put(self, request):
        self.scope.require(ADMIN, "change the payment policy")
        tenant = self.tenant()
        payload = PaymentPolicySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        policy = update_payment_policy(
            tenant,
            actor=self.actor(),
            payout_retry_limit=data["payout_retry_limit"],
            payout_cooldown_seconds=data["payout_cooldown_seconds"],
            currency_limits=[_limits_in_minor_units(row) for row in data["currency_limits"]],
            reason=data.get("reason", ""),
        )
        return Response(_policy_json(tenant, policy))


def _limits_in_minor_units(row: dict) -> dict:
    currency = row["currency"]
    converted = {"currency": currency}
    for name in LIMIT_FIELDS:
        text = row.get(name)
        if text is None:
            converted[name] = None
            continue
        try:
            converted[name] = 0 if text in ("0", "0.00") and name.startswith("daily_") else parse_amount(text, currency)
        except AmountError as error:
            raise ValidationFailed(str(error), errors={"currency_limits": [f"{currency} {name}: {error}"]}) from None
    return converted


def _policy_json(tenant: Tenant, policy: PaymentPolicy) -> dict:
    plain = policy_as_dict(policy)
    plain["currency_limits"] = [
        {
            "currency": row["currency"],
            **{name: money_text(row[name], row["currency"]) for name in LIMIT_FIELDS},
        }
        for row in plain["currency_limits"]
    ]
    return {"tenant": tenant.slug, **plain}


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
    from rest_framework import serializers

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
