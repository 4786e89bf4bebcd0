"""`POST /api/v1/deposits/`: create the deposit, then open the PSP's checkout for it.

A player endpoint that lives here rather than in the wallet's API because it calls the
PSP (between two commits); the deposit itself is created by the wallet's service.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.api import schema
from core.idempotency import idempotent
from core.ids import uuid7
from payouts.checkout import start_checkout
from payouts.errors import ProviderUnavailable
from payouts.providers import ProviderError
from payouts.selectors import has_provider, provider_name
from wallet import services
from wallet.api.serializers import DepositSerializer, MoneyRequestSerializer
from wallet.api.views import PlayerAPIView


class DepositCreateView(PlayerAPIView):
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
                *schema.WRITE_ERRORS,
                examples={
                    400: [schema.BAD_AMOUNT],
                    403: [schema.PLAYER_EXCLUDED, schema.KYC_REQUIRED_DEPOSIT],
                    422: [schema.LIMIT_EXCEEDED, schema.PLAYER_LIMIT_EXCEEDED],
                },
            ),
        },
        tags=["player"],
    )
    @idempotent("deposits.create", phased=True)
    def post(self, request, idempotency):
        payload = MoneyRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if not has_provider(self.player.tenant):
            raise ProviderUnavailable("Deposits are not available for this casino right now.")
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
            raise ProviderUnavailable(
                "The payment provider could not be reached; retry with the same Idempotency-Key.",
                deposit_id=str(deposit.pk),
            ) from error
        return Response(DepositSerializer(deposit).data, status=status.HTTP_201_CREATED)
