"""The player API. Views read through selectors and act through services; none moves money."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from payouts.checkout import start_checkout
from payouts.providers import ProviderError
from payouts.selectors import has_provider, provider_name
from wallet import selectors, services
from wallet.errors import ProviderNotConfigured
from wallet.ids import uuid7
from wallet.models import Actor

from . import schema
from .auth import IsPlayer, PlayerTokenAuthentication, player_of
from .idempotency import idempotent
from .pagination import decode_cursor, encode_cursor
from .serializers import (
    ALL_STATES,
    CancelRequestSerializer,
    DepositSerializer,
    MoneyRequestSerializer,
    ReceiptSerializer,
    TransactionPageSerializer,
    TransactionSerializer,
    WalletListSerializer,
    WithdrawalSerializer,
)
from .throttling import PlayerRateThrottle


class PlayerAPIView(APIView):
    authentication_classes = [PlayerTokenAuthentication]
    permission_classes = [IsPlayer]
    throttle_classes = [PlayerRateThrottle]

    @property
    def player(self):
        return player_of(self.request)

    def actor(self) -> Actor:
        return Actor.player(self.request.user)

    def idempotency_scope(self, request, **kwargs) -> tuple[int, int]:
        return self.player.tenant_id, request.user.pk

    def owned(self, tx_id, tx_type: str):
        found = selectors.player_transaction(self.player, tx_id, tx_type)
        if found is None:
            raise Http404
        return found


class WalletView(PlayerAPIView):
    @extend_schema(
        operation_id="wallet_retrieve",
        summary="Balances per currency",
        responses={200: WalletListSerializer, **schema.error_responses(*schema.READ_ERRORS)},
        tags=["player"],
    )
    def get(self, request):
        return Response(WalletListSerializer({"wallets": selectors.player_wallets(self.player)}).data)


class DepositListView(PlayerAPIView):
    @extend_schema(
        operation_id="deposits_create",
        summary="Start a deposit",
        description=(
            "Creates the deposit, opens a checkout at the tenant's PSP and returns where the player pays "
            "(`checkout_url`). The PSP's signed webhook later completes or fails it. If the PSP cannot be "
            "reached the answer is 503 PROVIDER_UNAVAILABLE; retrying with the same Idempotency-Key resumes "
            "the same deposit."
        ),
        parameters=[schema.IDEMPOTENCY_KEY],
        request=MoneyRequestSerializer,
        responses={
            201: DepositSerializer,
            **schema.error_responses(
                *schema.WRITE_ERRORS, examples={400: [schema.BAD_AMOUNT], 422: [schema.LIMIT_EXCEEDED]}
            ),
        },
        tags=["player"],
    )
    @idempotent("deposits.create", phased=True)
    def post(self, request, idempotency):
        payload = MoneyRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if not has_provider(self.player.tenant):
            raise ProviderNotConfigured("Deposits are not available for this casino right now.")
        # The deposit id is chosen (and committed as the recovery point) before the
        # deposit exists, so a retry after a crash finds the same deposit.
        deposit_id = idempotency.recovery_point or str(uuid7())
        if not idempotency.recovery_point:
            idempotency.save_recovery_point(deposit_id)
        deposit = services.create_deposit(
            player=self.player,
            amount=payload.validated_data["amount_minor"],
            currency=payload.validated_data["currency"],
            actor=self.actor(),
            provider=provider_name(self.player.tenant),
            deposit_id=deposit_id,
        )
        try:
            deposit = start_checkout(deposit)
        except ProviderError as error:
            raise ProviderNotConfigured(
                "The payment provider could not be reached; retry with the same Idempotency-Key.",
                deposit_id=str(deposit.pk),
            ) from error
        return Response(DepositSerializer(deposit).data, status=status.HTTP_201_CREATED)


class DepositDetailView(PlayerAPIView):
    @extend_schema(
        operation_id="deposits_retrieve",
        summary="One deposit",
        responses={200: DepositSerializer, **schema.error_responses(*schema.READ_ERRORS)},
        tags=["player"],
    )
    def get(self, request, deposit_id):
        return Response(DepositSerializer(self.owned(deposit_id, "deposit")).data)


class WithdrawalListView(PlayerAPIView):
    @extend_schema(
        operation_id="withdrawals_create",
        summary="Request a withdrawal",
        description="Moves the amount from available to held and opens the withdrawal for review.",
        parameters=[schema.IDEMPOTENCY_KEY],
        request=MoneyRequestSerializer,
        responses={
            201: WithdrawalSerializer,
            **schema.error_responses(
                *schema.WRITE_ERRORS,
                examples={400: [schema.BAD_AMOUNT], 422: [schema.INSUFFICIENT, schema.LIMIT_EXCEEDED]},
            ),
        },
        tags=["player"],
    )
    @idempotent("withdrawals.create")
    def post(self, request):
        payload = MoneyRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        withdrawal = services.request_withdrawal(
            player=self.player,
            amount=payload.validated_data["amount_minor"],
            currency=payload.validated_data["currency"],
            actor=self.actor(),
        )
        return Response(WithdrawalSerializer(withdrawal).data, status=status.HTTP_201_CREATED)


class WithdrawalCancelView(PlayerAPIView):
    @extend_schema(
        operation_id="withdrawals_cancel",
        summary="Cancel a withdrawal awaiting review",
        description="Held money returns to available. Canceling a canceled withdrawal changes nothing.",
        parameters=[schema.IDEMPOTENCY_KEY],
        request=CancelRequestSerializer,
        responses={
            200: WithdrawalSerializer,
            **schema.error_responses(*schema.WRITE_ERRORS, examples={409: [schema.ILLEGAL]}),
        },
        tags=["player"],
    )
    @idempotent("withdrawals.cancel")
    def post(self, request, withdrawal_id):
        payload = CancelRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        withdrawal = self.owned(withdrawal_id, "withdrawal")
        withdrawal = services.cancel_withdrawal(withdrawal, actor=self.actor(), reason=payload.validated_data["reason"])
        return Response(WithdrawalSerializer(withdrawal).data)


class TransactionQuerySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=sorted(selectors.TX_MODELS), required=False)
    state = serializers.ChoiceField(choices=ALL_STATES, required=False)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)
    cursor = serializers.CharField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=25)


class TransactionListView(PlayerAPIView):
    @extend_schema(
        operation_id="transactions_list",
        summary="History of deposits and withdrawals, newest first",
        parameters=[TransactionQuerySerializer],
        responses={200: TransactionPageSerializer, **schema.error_responses(400, *schema.READ_ERRORS)},
        tags=["player"],
    )
    def get(self, request):
        query = TransactionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        filters = selectors.TransactionFilter(
            tx_type=params.get("type"),
            state=params.get("state"),
            created_after=params.get("created_after"),
            created_before=params.get("created_before"),
        )
        before = decode_cursor(params["cursor"]) if params.get("cursor") else None
        limit = params["limit"]
        rows = selectors.player_transactions(self.player, filters, before=before, limit=limit + 1)
        page, more = rows[:limit], len(rows) > limit
        next_url = None
        if more:
            last = page[-1]
            next_params = request.query_params.copy()
            next_params["cursor"] = encode_cursor(last.created_at, last.id)
            next_url = reverse("api:transactions", request=request) + "?" + next_params.urlencode()
        return Response({"results": TransactionSerializer(page, many=True).data, "next": next_url})


class ReceiptView(PlayerAPIView):
    @extend_schema(
        operation_id="transactions_retrieve",
        summary="Receipt of one deposit or withdrawal",
        parameters=[OpenApiParameter("transaction_id", type=str, location=OpenApiParameter.PATH, description="UUID")],
        responses={200: ReceiptSerializer, **schema.error_responses(*schema.READ_ERRORS)},
        tags=["player"],
    )
    def get(self, request, transaction_id):
        tx = selectors.player_transaction(self.player, transaction_id)
        if tx is None:
            raise Http404
        return Response(ReceiptSerializer(tx).data)
