"""The game wallet API for providers: POST /api/v1/games/<provider>/{balance,bet,win,rollback}/.

Authentication is the Standard Webhooks signature of the provider account named in the URL
(games.signatures); there is no token, no session, no CSRF, no throttle on the good path.
The body is read raw (the signature covers its bytes) and parsed by games.calls, so DRF's
parsers never run. Answers are sent as the exact text games.calls returns, which is what a
replay of the same call sends again (with `Idempotent-Replayed: true`).
"""

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from core.api import schema
from core.api.problems import problem_response
from core.idempotency import REPLAYED_HEADER
from core.middleware import client_ip
from games import calls
from games.services import Provider
from games.signatures import CallThrottled, authenticate

from .serializers import (
    BalanceCallSerializer,
    BetCallSerializer,
    GameAnswerSerializer,
    RollbackCallSerializer,
    WinCallSerializer,
)

SIGNATURE_HEADERS = [
    OpenApiParameter("webhook-id", location=OpenApiParameter.HEADER, required=True, type=str),
    OpenApiParameter(
        "webhook-timestamp",
        location=OpenApiParameter.HEADER,
        required=True,
        type=str,
        description="Unix seconds; within 5 minutes of our clock either way.",
    ),
    OpenApiParameter(
        "webhook-signature",
        location=OpenApiParameter.HEADER,
        required=True,
        type=str,
        description='"v1,<base64 HMAC-SHA256 of id.timestamp.body>" with the account\'s whsec_ secret (base64 key '
        "after the prefix); several space-separated. docs/game-wallet.md has a worked example.",
    ),
]
_ERRORS = {
    400: "VALIDATION_ERROR: the body is not a JSON object of the documented fields (amount a decimal string with "
    "at most the currency's decimals, currency the session's), or nested deeper than 32 levels.",
    401: "SIGNATURE_INVALID: unsigned, a bad or stale (over 5 minutes) signature, a secret that is not an active "
    "one of this provider account, or an unknown or deactivated account. Nothing was read or done.",
    403: "Bets only: GAME_SESSION_EXPIRED, PLAYER_EXCLUDED (kind, ends_at), PLAYER_ACCOUNT_RESTRICTED (reason, "
    "receivables), TENANT_SUSPENDED. Wins and rollbacks "
    "land whatever the session or the player's state.",
    404: "GAME_SESSION_UNKNOWN: no session with this token at this provider account (another tenant's or another "
    "provider's sessions alike).",
    405: "Method not allowed (METHOD_NOT_ALLOWED).",
    406: "Only JSON is served (NOT_ACCEPTABLE).",
    409: "GAME_TRANSACTION_CONFLICT (this transaction_id came with another body), GAME_ROUND_CLOSED (a bet on a "
    "closed round), GAME_TRANSACTION_ROLLED_BACK (a bet whose rollback came first), GAME_ROUND_SETTLED (a "
    "rollback of a bet whose round paid a win), GAME_ROUND_UNKNOWN (a win for a round with no bet).",
    413: "The body is over 1 MiB (PAYLOAD_TOO_LARGE); not read.",
    422: "Bets only: INSUFFICIENT_FUNDS (available, requested, currency), PLAYER_LIMIT_EXCEEDED kind loss (period, "
    "limit, used, requested, currency).",
    429: "RATE_LIMITED: over 60 refused signatures a minute from this address; see Retry-After.",
    500: "Unexpected error (INTERNAL_ERROR); retrying with the same transaction_id is safe.",
    503: "The database was briefly away (SERVICE_UNAVAILABLE); nothing was done; retry with the same transaction_id.",
}


def _errors(*statuses: int, examples: dict | None = None) -> dict:
    examples = examples or {}
    return {
        (status, "application/problem+json"): schema.problem(_ERRORS[status], *examples.get(status, []))
        for status in statuses
    }


_EXAMPLE_ANSWER = {
    "balance": "95.00",
    "currency": "EUR",
    "transaction_id": "tx-1001",
    "wallet_transaction_id": "01937a3c-5c1e-7d2a-9b1f-2f6f0c8e4a11",
}
_GAME_EXAMPLES = {
    409: [
        schema.problem_example(
            "Game transaction conflict",
            "GAME_TRANSACTION_CONFLICT",
            409,
            "Transaction tx-1001 was already sent with a different request; use a new transaction_id.",
            transaction_id="tx-1001",
        )
    ],
    401: [
        schema.problem_example(
            "Signature invalid", "SIGNATURE_INVALID", 401, "Call refused: Missing webhook-id header."
        )
    ],
}


class ProviderCallView(APIView):
    """One of the four calls; `kind` says which."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    parser_classes = []  # the raw body is what was signed; games.calls parses it
    kind = ""

    def post(self, request, provider):
        raw = request._request  # the Django request: its META and body, untouched by DRF
        try:
            keys = authenticate(provider, raw.META, raw.body, client_ip(raw))
        except CallThrottled as throttled:
            wait = throttled.retry_after
            return problem_response(
                "RATE_LIMITED", str(throttled), headers={"Retry-After": str(wait)}, retry_after=wait
            )
        answer = calls.handle(Provider(keys.account_id, keys.tenant_id, keys.slug), self.kind, raw.body)
        response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
        if answer.replayed:
            response[REPLAYED_HEADER] = "true"
        return response


def _schema(kind: str, summary: str, description: str, request, statuses, examples=None):
    return extend_schema(
        operation_id=f"games_{kind}",
        summary=summary,
        description=description + " Signed like webhooks (Standard Webhooks); see docs/game-wallet.md.",
        parameters=SIGNATURE_HEADERS,
        request=request,
        responses={
            200: GameAnswerSerializer,
            **_errors(*statuses, examples={**_GAME_EXAMPLES, **(examples or {})}),
        },
        examples=[OpenApiExample("Answer", value=_EXAMPLE_ANSWER, response_only=True, status_codes=["200"])],
        tags=["game provider"],
        auth=[],
    )


class GameBalanceView(ProviderCallView):
    kind = calls.BALANCE

    @_schema(
        "balance",
        "The player's balance",
        "The available balance in the session's currency, expired sessions included. transaction_id and "
        "wallet_transaction_id are null.",
        BalanceCallSerializer,
        (400, 401, 404, 405, 406, 413, 429, 500, 503),
    )
    def post(self, request, provider):
        return super().post(request, provider)


class GameBetView(ProviderCallView):
    kind = "bet"

    @_schema(
        "bet",
        "Place a bet",
        "Takes the amount from the player's available balance (never held money) into the round, opening it on "
        "its first bet. A refused bet is kept: the same transaction_id again gets the same refusal.",
        BetCallSerializer,
        (400, 401, 403, 404, 405, 406, 409, 413, 422, 429, 500, 503),
        examples={
            422: [schema.INSUFFICIENT],
            403: [
                schema.problem_example(
                    "Game session expired",
                    "GAME_SESSION_EXPIRED",
                    403,
                    "The game session expired; start a new one to bet.",
                    expired_at="2026-12-01T14:00:00+00:00",
                )
            ],
        },
    )
    def post(self, request, provider):
        return super().post(request, provider)


class GameWinView(ProviderCallView):
    kind = "win"

    @_schema(
        "win",
        "Pay a win",
        "Credits the amount for a round with a bet of this player (a zero amount moves nothing); round_closed "
        "closes the round. Lands after the session expired, while the player is excluded, on a closed round.",
        WinCallSerializer,
        (400, 401, 404, 405, 406, 409, 413, 429, 500, 503),
    )
    def post(self, request, provider):
        return super().post(request, provider)


class GameRollbackView(ProviderCallView):
    kind = "rollback"

    @_schema(
        "rollback",
        "Roll back a bet",
        "Gives the bet named by reference_transaction_id back, once. A bet not seen yet is recorded as rolled "
        "back (200): when it arrives it is refused (GAME_TRANSACTION_ROLLED_BACK). A bet that took nothing or was "
        "rolled back already: 200, nothing moves.",
        RollbackCallSerializer,
        (400, 401, 404, 405, 406, 409, 413, 429, 500, 503),
    )
    def post(self, request, provider):
        return super().post(request, provider)
