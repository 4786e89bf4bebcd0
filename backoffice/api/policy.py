"""The tenant's payment policy in the operator API, with maker-checker (/api/v1/admin/payment-policy/...).

PUT applies a change that only tightens (200 with the policy) and turns one that loosens
any control into a pending change (202) that another admin approves or rejects.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.api import schema
from core.api.fields import money_text
from core.errors import ValidationFailed
from core.money import AmountError, parse_amount
from tenants.access import OPERATOR_READ_ERRORS, OperatorAPIView
from tenants.models import PaymentPolicy, PolicyChange, Tenant
from tenants.operators import ADMIN
from tenants.policy import CURRENCY_CONTROLS, POLICY_CONTROLS
from tenants.services import (
    LIMIT_FIELDS,
    approve_policy_change,
    change_payment_policy,
    policy_as_dict,
    reject_policy_change,
)

from .serializers import PaymentPolicySerializer, PolicyChangeListSerializer, PolicyChangeSerializer, ReasonSerializer

TENANT_PARAM = OpenApiParameter("tenant", str, description="Platform superusers: the tenant's slug.")


class PolicyAPIView(OperatorAPIView):
    def tenant(self) -> Tenant:
        if not self.scope.is_platform:
            return self.scope.tenant
        slug = self.request.query_params.get("tenant", "")
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise ValidationFailed("Platform users name the tenant: ?tenant=<slug>.", errors={"tenant": ["Required."]})
        return tenant


class PaymentPolicyView(PolicyAPIView):
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
        summary="Replace the tenant's payment policy (admin role; loosening waits for a second admin)",
        description=(
            "A change that only tightens controls applies at once: 200 with the new policy. A change that "
            "loosens any control (raising or removing a limit or threshold, fewer cooldown seconds, more "
            "payout attempts) is pending as a whole: 202 with the change, the policy stays as it is until "
            "another admin approves it. One pending change per tenant (409 POLICY_CHANGE_PENDING). A reason "
            "is required when anything changes (400 REVIEW_REASON_REQUIRED)."
        ),
        parameters=[TENANT_PARAM],
        request=PaymentPolicySerializer,
        responses={
            200: PaymentPolicySerializer,
            202: PolicyChangeSerializer,
            **schema.error_responses(400, 401, 403, 404, 405, 406, 409, 413, 415, 429, 500, 503),
        },
        tags=["operator"],
    )
    def put(self, request):
        self.scope.require(ADMIN, "change the payment policy")
        tenant = self.tenant()
        payload = PaymentPolicySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        controls = {name: data[name] for name in POLICY_CONTROLS if name in data}
        outcome = change_payment_policy(
            tenant,
            actor=self.actor(),
            currency_limits=[_limits_in_minor_units(row) for row in data["currency_limits"]],
            reason=data.get("reason", ""),
            **controls,
        )
        if outcome.pending:
            return Response(change_json(outcome.change), status=status.HTTP_202_ACCEPTED)
        return Response(_policy_json(tenant, outcome.policy))


class PolicyChangeListView(PolicyAPIView):
    @extend_schema(
        operation_id="admin_payment_policy_changes_list",
        summary="Requested policy changes, newest first (the pending one, and the 100 latest)",
        parameters=[TENANT_PARAM, OpenApiParameter("state", str, enum=PolicyChange.State.values)],
        responses={200: PolicyChangeListSerializer, **schema.error_responses(*OPERATOR_READ_ERRORS)},
        tags=["operator"],
    )
    def get(self, request):
        changes = PolicyChange.objects.filter(tenant=self.tenant())
        wanted = request.query_params.get("state", "")
        if wanted:
            if wanted not in PolicyChange.State.values:
                raise ValidationFailed(
                    f"state must be one of: {', '.join(PolicyChange.State.values)}.", errors={"state": ["Unknown."]}
                )
            changes = changes.filter(state=wanted)
        return Response({"results": [change_json(change) for change in changes[:100]]})


class PolicyChangeDecisionView(OperatorAPIView):
    """approve | reject a pending change, with a reason; an admin of the tenant or a platform superuser."""

    def decide(self, request, change_id, act):
        # Another tenant's change is 404 for every role, before any role check.
        change = self.scope.filter(PolicyChange.objects.select_related("tenant")).filter(pk=change_id).first()
        if change is None:
            raise Http404
        self.scope.require(ADMIN, "decide on payment policy changes")
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        change = act(change, actor=self.actor(), reason=payload.validated_data["reason"])
        return Response(change_json(change))


DECISION_ERRORS = schema.error_responses(400, 401, 403, 404, 405, 406, 409, 415, 429, 500, 503)


class ApprovePolicyChangeView(PolicyChangeDecisionView):
    @extend_schema(
        operation_id="admin_payment_policy_changes_approve",
        summary="Approve a pending policy change: it applies now (not by its requester: 409 FOUR_EYES_VIOLATION)",
        request=ReasonSerializer,
        responses={200: PolicyChangeSerializer, **DECISION_ERRORS},
        tags=["operator"],
    )
    def post(self, request, change_id):
        return self.decide(request, change_id, approve_policy_change)


class RejectPolicyChangeView(PolicyChangeDecisionView):
    @extend_schema(
        operation_id="admin_payment_policy_changes_reject",
        summary="Reject a pending policy change (its requester may withdraw it): the policy stays as it is",
        request=ReasonSerializer,
        responses={200: PolicyChangeSerializer, **DECISION_ERRORS},
        tags=["operator"],
    )
    def post(self, request, change_id):
        return self.decide(request, change_id, reject_policy_change)


def change_json(change: PolicyChange) -> dict:
    """A change as the API shows it: amounts as decimal text of their currency."""

    def shown(row: dict, value):
        if row.get("currency") and row["field"] in CURRENCY_CONTROLS:
            return money_text(value, row["currency"])
        return value

    return {
        "id": change.pk,
        "state": change.state,
        "changes": [
            {
                "field": row["field"],
                "currency": row.get("currency"),
                "before": shown(row, row.get("before")),
                "after": shown(row, row.get("after")),
            }
            for row in change.changes
        ],
        "reason": change.reason,
        "requested_by": change.requested_by_label,
        "created_at": change.created_at,
        "expires_at": change.expires_at,
        "decided_by": change.decided_by_label or None,
        "decided_at": change.decided_at,
        "decision_reason": change.decision_reason,
    }


def _limits_in_minor_units(row: dict) -> dict:
    currency = row["currency"]
    converted = {"currency": currency}
    for name in LIMIT_FIELDS:
        if name not in row:
            continue  # left out: keeps its value
        text = row[name]
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
