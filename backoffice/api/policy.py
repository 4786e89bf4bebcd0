"""The tenant's payment policy in the operator API (/api/v1/admin/payment-policy/)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from core.api import schema
from core.api.fields import money_text
from core.errors import ValidationFailed
from core.money import AmountError, parse_amount
from tenants.access import OPERATOR_READ_ERRORS, OperatorAPIView
from tenants.models import PaymentPolicy, Tenant
from tenants.operators import ADMIN
from tenants.services import LIMIT_FIELDS, policy_as_dict, update_payment_policy

from .serializers import PaymentPolicySerializer

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
            **schema.error_responses(400, 401, 403, 404, 405, 406, 413, 415, 429, 500, 503),
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
