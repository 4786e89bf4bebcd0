"""The player API. Views read through selectors and act through services; none moves money.

`POST deposits/` opens a PSP checkout, so it lives with the checkout in payouts.api.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from core.actors import Actor
from core.api import schema
from core.api.pagination import decode_cursor, encode_cursor
from core.api.throttling import PlayerRateThrottle
from core.idempotency import idempotent
from players.auth import IsPlayer, PlayerTokenAuthentication, player_of
from wallet import selectors, services

from .serializers import (
    ALL_STATES,
    CancelRequestSerializer,
    DepositSerializer,
    ReceiptSerializer,
    TransactionPageSerializer,
    TransactionSerializer,
    WalletListSerializer,
    WithdrawalCreateSerializer,
    WithdrawalSerializer,
)


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

    def transaction_context(self, *transactions) -> dict:
        """What the transaction serializers need to say whether each one is `cancelable`."""
        return {"cancel_allowed": selectors.cancel_allowed(self.player, transactions)}

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
        description=(
            "Moves the amount from available to held and opens the withdrawal for review, to be paid out to "
            "`payment_method`. Once the player has a payment method the request must name one of theirs (an "
            "unknown id, another player's or another casino's is 404 NOT_FOUND alike). Closed loop: a method may "
            "receive up to its net deposits plus the winnings beyond every method's net deposits; a method that "
            "cannot receive payouts receives nothing (422 CLOSED_LOOP_VIOLATION with `allowed`)."
        ),
        parameters=[schema.IDEMPOTENCY_KEY],
        request=WithdrawalCreateSerializer,
        responses={
            201: WithdrawalSerializer,
            **schema.error_responses(
                *schema.WRITE_ERRORS,
                examples={
                    400: [schema.BAD_AMOUNT],
                    403: [schema.KYC_REQUIRED_WITHDRAWAL, schema.ACCOUNT_RESTRICTED],
                    404: [schema.UNKNOWN_PAYMENT_METHOD],
                    422: [schema.INSUFFICIENT, schema.LIMIT_EXCEEDED, schema.CLOSED_LOOP],
                },
            ),
        },
        tags=["player"],
    )
    @idempotent("withdrawals.create")
    def post(self, request):
        payload = WithdrawalCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        withdrawal = services.request_withdrawal(
            player=self.player,
            amount=payload.validated_data["amount_minor"],
            currency=payload.validated_data["currency"],
            actor=self.actor(),
            payment_method=payload.validated_data.get("payment_method"),
        )
        context = {"cancel_allowed": withdrawal.player_cancel_allowed}  # the rule the service read: no query
        return Response(WithdrawalSerializer(withdrawal, context=context).data, status=status.HTTP_201_CREATED)


class WithdrawalCancelView(PlayerAPIView):
    @extend_schema(
        operation_id="withdrawals_cancel",
        summary="Cancel a withdrawal awaiting review",
        description=(
            "Held money returns to available. Canceling a canceled withdrawal changes nothing. A casino that "
            "allows no reverse withdrawals refuses it (403 WITHDRAWAL_CANCEL_DISABLED); a withdrawal's "
            "`cancelable` says beforehand whether the player may cancel it."
        ),
        parameters=[schema.IDEMPOTENCY_KEY],
        request=CancelRequestSerializer,
        responses={
            200: WithdrawalSerializer,
            **schema.error_responses(
                *schema.WRITE_ERRORS, examples={403: [schema.CANCEL_DISABLED], 409: [schema.ILLEGAL]}
            ),
        },
        tags=["player"],
    )
    @idempotent("withdrawals.cancel")
    def post(self, request, withdrawal_id):
        payload = CancelRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        withdrawal = self.owned(withdrawal_id, "withdrawal")
        withdrawal = services.cancel_withdrawal(withdrawal, actor=self.actor(), reason=payload.validated_data["reason"])
        return Response(WithdrawalSerializer(withdrawal, context=self.transaction_context(withdrawal)).data)


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
        results = TransactionSerializer(page, many=True, context=self.transaction_context(*page)).data
        return Response({"results": results, "next": next_url})


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
        return Response(ReceiptSerializer(tx, context=self.transaction_context(tx)).data)
