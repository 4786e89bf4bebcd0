"""The player's side of the game wallet: the casino's games, and starting one (a session)."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.api import schema
from core.idempotency import idempotent
from games import selectors
from games.sessions import start_session
from wallet.api.views import PlayerAPIView

from .serializers import GameListSerializer, SessionRequestSerializer, SessionSerializer

SESSION_ERRORS = (400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429, 500, 503)


class GameListView(PlayerAPIView):
    @extend_schema(
        operation_id="games_list",
        summary="The casino's games",
        description="Games the player can start (their provider account is active).",
        responses={200: GameListSerializer, **schema.error_responses(*schema.READ_ERRORS)},
        tags=["player"],
    )
    def get(self, request):
        return Response(GameListSerializer({"games": selectors.games_of(self.player.tenant_id)}).data)


class GameSessionCreateView(PlayerAPIView):
    @extend_schema(
        operation_id="games_sessions_create",
        summary="Start a game",
        description=(
            "A session in one game and currency: its token for the provider and the URL that opens the game "
            "(with the token and the game wallet API's base in it). Refused while the player is excluded (403 "
            "PLAYER_EXCLUDED) or owes the casino after a chargeback (403 PLAYER_ACCOUNT_RESTRICTED), the casino is "
            "suspended (403 TENANT_SUSPENDED), for a currency the casino does not "
            "take (400 VALIDATION_ERROR) or a game it does not offer (404 NOT_FOUND). Moves no money, so an "
            "Idempotency-Key is honoured when sent and not demanded."
        ),
        parameters=[schema.IDEMPOTENCY_KEY_OPTIONAL],
        request=SessionRequestSerializer,
        responses={
            201: SessionSerializer,
            **schema.error_responses(*SESSION_ERRORS, examples={403: [schema.PLAYER_EXCLUDED]}),
        },
        examples=[
            OpenApiExample("Start the sandbox slot in EUR", value={"game": 1, "currency": "EUR"}, request_only=True),
            OpenApiExample(
                "A session",
                value={
                    "session_token": "gs_4m0C2yQdX8…",
                    "launch_url": "http://127.0.0.1:8002/play/slot?session_token=gs_4m0C2yQdX8…&api_base=http%3A%2F%2F"
                    "127.0.0.1%3A8000%2Fapi%2Fv1%2Fgames%2Faurora-slots%2F&currency=EUR&game=slot",
                    "expires_at": "2026-12-01T14:00:00Z",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
        tags=["player"],
    )
    @idempotent("games.sessions.create", required=False)
    def post(self, request):
        payload = SessionRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        started = start_session(
            player=self.player,
            game_id=payload.validated_data["game"],
            currency=payload.validated_data["currency"],
            actor=self.actor(),
            api_origin=request.build_absolute_uri("/"),
        )
        body = {"session_token": started.token, "launch_url": started.launch_url, "expires_at": started.expires_at}
        return Response(SessionSerializer(body).data, status=status.HTTP_201_CREATED)
