"""Chargebacks and receivables in the operator API (/api/v1/admin/chargebacks/, /admin/receivables/).

The console's Chargebacks page as data, for finance's own books: the same reads
(backoffice.disputes) and the same filters, scoped to the operator's casino. Days are the
casino's (UTC for platform staff), as on the page.
"""

from datetime import UTC

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from backoffice import disputes
from core import days, replica
from core.api import schema
from core.api.fields import money_text
from core.api.pagination import NumberedPageSerializer, numbered_page
from core.errors import ValidationFailed
from tenants.access import OPERATOR_READ_ERRORS, OperatorAPIView

from .serializers import MethodRefSerializer, PlayerRefSerializer, SnapshotWalletSerializer


class ReceivableQuerySerializer(serializers.Serializer):
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, allow_blank=True, default="")
    player = serializers.CharField(
        required=False, allow_blank=True, max_length=150, default="", help_text="Username, name or number."
    )
    page = serializers.IntegerField(required=False, min_value=1, max_value=100_000, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


class ChargebackQuerySerializer(ReceivableQuerySerializer):
    state = serializers.MultipleChoiceField(
        choices=disputes.DISPUTED, required=False, help_text="Repeat to ask for several; none: every disputed state."
    )
    disputed_from = serializers.DateField(
        required=False,
        help_text="First day, YYYY-MM-DD: a deposit with a dispute step (chargeback, reversal, "
        "second chargeback) on or after it.",
    )
    disputed_until = serializers.DateField(required=False, help_text="Last day (included), YYYY-MM-DD.")

    def validate(self, data):
        first, last = data.get("disputed_from"), data.get("disputed_until")
        if first and last and last < first:
            raise ValidationFailed(
                "disputed_until must not be before disputed_from.",
                errors={"disputed_until": ["Before disputed_from."]},
            )
        return data


class ChargebackSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The deposit's id.")
    reference = serializers.CharField()
    player = PlayerRefSerializer()
    amount = serializers.SerializerMethodField(help_text="Decimal string in the currency.")
    currency = serializers.CharField()
    payment_method = MethodRefSerializer(allow_null=True, help_text="The method the PSP reported, or null.")
    state = serializers.ChoiceField(choices=disputes.DISPUTED)
    charged_back_at = serializers.DateTimeField()
    reversed_at = serializers.DateTimeField(allow_null=True)
    charged_back_again_at = serializers.DateTimeField(allow_null=True)

    def get_amount(self, deposit) -> str:
        return money_text(deposit.amount, deposit.currency)


class ChargebackPageSerializer(NumberedPageSerializer):
    results = ChargebackSerializer(many=True)


class OwingWalletSerializer(SnapshotWalletSerializer):
    """A wallet whose player owes the casino: its balances as everywhere in the API, and whose it is."""

    player = PlayerRefSerializer()


class OwingWalletPageSerializer(NumberedPageSerializer):
    results = OwingWalletSerializer(many=True)


def _filter(params: dict, zone) -> disputes.DisputeFilter:
    return disputes.DisputeFilter(
        states=tuple(sorted(params.get("state") or ())),
        currency=params["currency"],
        player=params["player"],
        disputed_after=days.start_of(params.get("disputed_from"), zone),
        disputed_before=days.end_of(params.get("disputed_until"), zone),
    )


class ChargebackListView(OperatorAPIView):
    @extend_schema(
        operation_id="admin_chargebacks_list",
        summary="Charged-back deposits of the casino, the latest dispute step first",
        description=(
            "Deposits the PSP reported disputed: charged back, charged back and reversed, or charged back "
            "again after the reversal, with when each step happened. The day filters find a deposit by any "
            "of its steps, as the PSP's settlement report of a day lists them; days are the casino's (UTC "
            "for platform staff). Every operator reads."
        ),
        parameters=[ChargebackQuerySerializer],
        responses={200: ChargebackPageSerializer, **schema.error_responses(*OPERATOR_READ_ERRORS)},
        tags=["operator"],
    )
    @replica.reads
    def get(self, request):
        query = ChargebackQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        tenant = request.operator.tenant
        rows = disputes.chargebacks(request.operator, _filter(params, tenant.zone if tenant else UTC))
        return Response(numbered_page(rows, params["page"], params["page_size"], ChargebackSerializer))


class ReceivableListView(OperatorAPIView):
    @extend_schema(
        operation_id="admin_receivables_list",
        summary="Players who owe the casino after chargebacks, the largest debt first",
        description=(
            "Each wallet with an open receivable: the account is restricted (no withdrawals, approvals or "
            "play) until deposits, a released withdrawal, a reversal or a returned payout repay it."
        ),
        parameters=[ReceivableQuerySerializer],
        responses={200: OwingWalletPageSerializer, **schema.error_responses(*OPERATOR_READ_ERRORS)},
        tags=["operator"],
    )
    @replica.reads
    def get(self, request):
        query = ReceivableQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        rows = disputes.receivables(request.operator, _filter(params, UTC))
        return Response(numbered_page(rows, params["page"], params["page_size"], OwingWalletSerializer))
