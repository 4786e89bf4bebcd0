"""The player's own protection in the player API: limits and exclusions (ARCHITECTURE section 13).

Neither endpoint moves money, so neither requires an Idempotency-Key (section 6 asks it
of the POSTs that create or move money):
- `PUT limits/` sets the limit to the value sent, so sending it twice leaves the same
  limit and answers the same (players.limits keeps a repeated raise's cooling-off date).
  A late retry cannot loosen anything at once either: a raise or a removal always waits.
- `POST exclusions/` creates an exclusion; a retry after a lost answer would add a
  second one a few seconds longer, harmless but untidy, so a key is honoured when sent
  (the player page sends one per intent) and not demanded.
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.api import schema
from core.idempotency import idempotent
from players.exclusions import exclude_self, exclusions_of
from players.limits import limits_of, set_player_limit

from .serializers import (
    ExclusionCreateSerializer,
    ExclusionListSerializer,
    LimitListSerializer,
    LimitSerializer,
    LimitUpdateSerializer,
    NewExclusionSerializer,
)
from .views import PlayerAPIView

# Errors of a write that names no object and moves no money.
PROTECTION_WRITE_ERRORS = (400, 401, 403, 405, 406, 413, 415, 429, 500, 503)

DAILY_LIMIT = {"currency": "EUR", "kind": "deposit", "period": "day", "amount": "100.00"}
LIMIT_EXAMPLES = [
    OpenApiExample("Set or lower a daily deposit limit", value=DAILY_LIMIT, request_only=True),
    OpenApiExample(
        "Remove a weekly loss limit (after the cooling-off)",
        value={"currency": "EUR", "kind": "loss", "period": "week", "amount": None},
        request_only=True,
    ),
    OpenApiExample(
        "A limit in force", value={**DAILY_LIMIT, "pending": None}, response_only=True, status_codes=["200"]
    ),
    OpenApiExample(
        "A raise waiting for its cooling-off",
        value={**DAILY_LIMIT, "pending": {"amount": "250.00", "effective_at": "2026-12-02T09:30:00Z"}},
        response_only=True,
        status_codes=["200"],
    ),
]
BAD_LIMIT = schema.problem_example(
    "Invalid limit",
    "VALIDATION_ERROR",
    400,
    "The request is not valid.",
    errors={"amount": ['Amount must be a positive decimal string such as "25.00".']},
)
EXCLUSION_EXAMPLES = [
    OpenApiExample("Take a break of a week", value={"kind": "timeout", "days": 7}, request_only=True),
    OpenApiExample("Self-exclude for six months", value={"kind": "self_exclusion", "days": 180}, request_only=True),
    OpenApiExample("Self-exclude for good", value={"kind": "self_exclusion", "permanent": True}, request_only=True),
    OpenApiExample(
        "A break",
        value={"id": 41, "kind": "timeout", "starts_at": "2026-12-01T09:30:00Z", "ends_at": "2026-12-08T09:30:00Z"},
        response_only=True,
        status_codes=["201"],
    ),
]
BAD_DAYS = schema.problem_example(
    "Days out of range", "VALIDATION_ERROR", 400, "A timeout lasts 1 to 42 days.", errors={"days": ["From 1 to 42."]}
)


class LimitsView(PlayerAPIView):
    @extend_schema(
        operation_id="limits_list",
        summary="The player's own deposit and loss limits",
        description=(
            "Every limit in force or waiting, per currency, kind and period (rolling: day = 24 hours, week = 7 "
            "days, month = 30 days). `pending` is a raise or removal waiting for the casino's cooling-off; the "
            "`amount` shown applies until its `effective_at`."
        ),
        responses={200: LimitListSerializer, **schema.error_responses(*schema.READ_ERRORS)},
        tags=["player"],
    )
    def get(self, request):
        return Response(LimitListSerializer({"limits": limits_of(self.player)}).data)

    @extend_schema(
        operation_id="limits_update",
        summary="Set, lower, raise or remove one limit",
        description=(
            "Lowering a limit, or setting one where there was none, applies at once and cancels a waiting raise. "
            "Raising or removing it (`amount`: null) waits for the casino's cooling-off (`pending`), the current "
            "limit staying in force until then. Deposit limits refuse deposits over them (422 "
            "PLAYER_LIMIT_EXCEEDED); loss limits refuse bets over them in the game wallet. No Idempotency-Key: "
            "sending the same limit again changes nothing (a waiting raise keeps its date)."
        ),
        request=LimitUpdateSerializer,
        responses={
            200: LimitSerializer,
            **schema.error_responses(*PROTECTION_WRITE_ERRORS, examples={400: [BAD_LIMIT]}),
        },
        examples=LIMIT_EXAMPLES,
        tags=["player"],
    )
    def put(self, request):
        payload = LimitUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        view = set_player_limit(
            self.player,
            currency=data["currency"],
            kind=data["kind"],
            period=data["period"],
            amount=data["amount_minor"],
            actor=self.actor(),
        )
        return Response(LimitSerializer(view).data)


class ExclusionsView(PlayerAPIView):
    @extend_schema(
        operation_id="exclusions_list",
        summary="The player's breaks, self-exclusions and blocks",
        description="Newest first; `active` ones stop deposits and play (withdrawals still work).",
        responses={200: ExclusionListSerializer, **schema.error_responses(*schema.READ_ERRORS)},
        tags=["player"],
    )
    def get(self, request):
        context = {"now": timezone.now()}
        return Response(ExclusionListSerializer({"exclusions": exclusions_of(self.player)}, context=context).data)

    @extend_schema(
        operation_id="exclusions_create",
        summary="Take a break or self-exclude",
        description=(
            "`timeout`: 1 to 42 days; `self_exclusion`: 180 to 1825 days, or `permanent`. From now until it ends "
            "the player cannot deposit or play; withdrawals and reads still work. Nobody can shorten or lift it; "
            "one that would end sooner than the player's exclusion in force is refused (409 "
            "EXCLUSION_WOULD_SHORTEN)."
        ),
        parameters=[schema.IDEMPOTENCY_KEY_OPTIONAL],
        request=ExclusionCreateSerializer,
        responses={
            201: NewExclusionSerializer,
            **schema.error_responses(
                *PROTECTION_WRITE_ERRORS, 409, 422, examples={400: [BAD_DAYS], 409: [schema.EXCLUSION_WOULD_SHORTEN]}
            ),
        },
        examples=EXCLUSION_EXAMPLES,
        tags=["player"],
    )
    @idempotent("exclusions.create", required=False)
    def post(self, request):
        payload = ExclusionCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        exclusion = exclude_self(
            self.player, kind=data["kind"], days=data.get("days"), permanent=data["permanent"], actor=self.actor()
        )
        return Response(NewExclusionSerializer(exclusion).data, status=status.HTTP_201_CREATED)
