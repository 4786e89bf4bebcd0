"""The PSP webhook endpoint: POST /api/v1/webhooks/psp/<provider>/."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import schema
from core.api.problems import problem_response
from core.middleware import client_ip
from payouts import webhooks

_SIGNATURE_HEADERS = [
    OpenApiParameter("webhook-id", location=OpenApiParameter.HEADER, required=True, type=str),
    OpenApiParameter("webhook-timestamp", location=OpenApiParameter.HEADER, required=True, type=str),
    OpenApiParameter(
        "webhook-signature",
        location=OpenApiParameter.HEADER,
        required=True,
        type=str,
        description='Standard Webhooks: "v1,<base64 HMAC-SHA256 of id.timestamp.body>", space-separated for several.',
    ),
]


class PspWebhookView(APIView):
    """Signed events from a PSP. Authentication is the signature; there is no token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        operation_id="psp_webhook",
        summary="Receive a signed PSP event",
        description=(
            "Standard Webhooks signature on the raw body, 5 minutes tolerance both ways. A repeated webhook-id "
            "of the same account is acknowledged (200) and ignored. Events that arrive out of order never move a "
            "transaction back. Bodies over 1 MiB are refused 413 unread; a webhook-id over 255 characters, or a "
            "signed body that is not a JSON object, 400. Past 60 refused signatures a minute from one address, "
            "that address is answered 429 until the minute ends."
        ),
        parameters=_SIGNATURE_HEADERS,
        request={"application/json": {"type": "object", "additionalProperties": True}},
        responses={
            200: inline_serializer(
                "WebhookReceipt",
                {
                    "received": serializers.BooleanField(),
                    "duplicate": serializers.BooleanField(),
                    "outcome": serializers.CharField(),
                },
            ),
            **schema.error_responses(400, 401, 404, 405, 406, 413, 415, 429, 500, 503),
        },
        tags=["webhooks"],
        auth=[],
    )
    def post(self, request, provider):
        try:
            receipt = webhooks.receive(
                provider, headers=dict(request.headers), body=request.body, source=client_ip(request)
            )
        except LookupError:
            return problem_response("NOT_FOUND", f"No payment provider {provider!r} here.")
        except webhooks.WebhookInvalid as invalid:
            return problem_response(
                "VALIDATION_ERROR", f"Webhook refused: {invalid.reason}", errors={invalid.field: [invalid.reason]}
            )
        except webhooks.WebhookThrottled as throttled:
            wait = throttled.retry_after
            return problem_response(
                "RATE_LIMITED", str(throttled), headers={"Retry-After": str(wait)}, retry_after=wait
            )
        except webhooks.WebhookRefused as refusal:
            return problem_response("WEBHOOK_SIGNATURE_INVALID", f"Webhook refused: {refusal}")
        return Response({"received": True, "duplicate": receipt.duplicate, "outcome": receipt.outcome})
