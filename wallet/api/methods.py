"""`GET payment-methods/`: the player's payment methods and what each has brought in (ARCHITECTURE 16)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from core.api import schema
from wallet.methods import player_methods

from .serializers import PaymentMethodListSerializer
from .views import PlayerAPIView


class PaymentMethodsView(PlayerAPIView):
    @extend_schema(
        operation_id="payment_methods_list",
        summary="The player's payment methods",
        description=(
            "Every method the player paid with, as the PSP reported it, oldest first, with its net deposits per "
            "currency: completed deposits from it less withdrawals to it that are paid or in flight. A withdrawal "
            "names one of them as its destination (`payment_method`); the closed-loop rule decides how much each "
            "may receive."
        ),
        responses={200: PaymentMethodListSerializer, **schema.error_responses(*schema.READ_ERRORS)},
        tags=["player"],
    )
    def get(self, request):
        return Response(PaymentMethodListSerializer({"payment_methods": player_methods(self.player)}).data)
