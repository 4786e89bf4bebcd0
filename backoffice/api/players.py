"""Players in the operator API: search, the player's page, KYC and operator blocks (/api/v1/admin/players/...).

Roles: every operator reads; finance and admin set the KYC status, block and lift. Another
tenant's player, or another player's exclusion, is 404 for every role, before any role
check. The three POSTs move no money but take an Idempotency-Key like every operator
POST: a block creates a row per call, so a retry after a lost response would block twice
(and a second block is a legitimate act, so it cannot be deduplicated by its content);
a resent KYC change would undo a colleague's change made in between. With the key a
retry replays the first answer and does nothing.
"""

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from backoffice.player_context import find_player, player_context, players_matching
from backoffice.player_protection import as_of, find_exclusion, kyc_history
from core import replica
from core.api import schema
from core.api.pagination import numbered_page
from core.idempotency import idempotent
from players.exclusions import block_player, lift_block
from players.kyc import set_kyc_status
from tenants.access import OPERATOR_READ_ERRORS, OperatorAPIView
from tenants.operators import FINANCE

from .player_serializers import (
    BlockRequestSerializer,
    KycRequestSerializer,
    KycSerializer,
    PlayerDetailSerializer,
    PlayerExclusionSerializer,
    PlayerPageSerializer,
    PlayerQuerySerializer,
    PlayerSummarySerializer,
)
from .serializers import ReasonSerializer

REASON_REQUIRED = schema.problem_example(
    "Reason required", "REVIEW_REASON_REQUIRED", 400, "Say why the KYC status changes."
)
NOT_LIFTABLE = schema.problem_example(
    "Not liftable",
    "EXCLUSION_NOT_LIFTABLE",
    409,
    "Only an operator block can be lifted; the player's own exclusion runs until it ends.",
    kind="self_exclusion",
)
WRITE_STATUSES = (400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429, 500, 503)
WRITE_ERRORS = schema.error_responses(*WRITE_STATUSES, examples={400: [REASON_REQUIRED]})
LIFT_ERRORS = schema.error_responses(*WRITE_STATUSES, examples={400: [REASON_REQUIRED], 409: [NOT_LIFTABLE]})
ROLE_AND_REASON = (
    "Needs the finance or admin role and a non-blank reason (400 REVIEW_REASON_REQUIRED). Another tenant's "
    "player is 404 for every role. Takes an Idempotency-Key: a retry with the same key replays the first answer."
)


class PlayerListView(OperatorAPIView):
    @extend_schema(
        operation_id="admin_players_list",
        summary="Find players (username, name, external reference or number), newest first",
        parameters=[PlayerQuerySerializer],
        responses={200: PlayerPageSerializer, **schema.error_responses(*OPERATOR_READ_ERRORS)},
        tags=["operator"],
    )
    @replica.reads
    def get(self, request):
        query = PlayerQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        rows = players_matching(self.scope, params["q"])
        return Response(numbered_page(rows, params["page"], params["page_size"], PlayerSummarySerializer))


class PlayerAPIView(OperatorAPIView):
    """An endpoint about one player of the operator's tenant."""

    def player(self, player_id):
        player = find_player(self.scope, player_id)
        if player is None:
            raise Http404
        return player

    def idempotency_scope(self, request, player_id=None, **kwargs) -> tuple[int, int]:
        """A platform user's key is scoped to the player's tenant, as the tenant's operators' are."""
        tenant_id, caller_id = super().idempotency_scope(request)
        if request.operator.is_platform and player_id:
            found = find_player(request.operator, player_id)
            tenant_id = found.tenant_id if found else 0
        return tenant_id, caller_id


class PlayerDetailView(PlayerAPIView):
    @extend_schema(
        operation_id="admin_players_retrieve",
        summary="One player: balances, KYC, limits, exclusions, lifetime figures, recent money",
        description=(
            "Limits show a pending raise and when it applies; exclusions are split into active and past, "
            "with what refuses deposits now (`in_force`, the exclusion register included); recent "
            "withdrawals carry their risk flags."
        ),
        responses={200: PlayerDetailSerializer, **schema.error_responses(*OPERATOR_READ_ERRORS)},
        tags=["operator"],
    )
    def get(self, request, player_id):
        return Response(PlayerDetailSerializer(player_context(self.player(player_id))).data)


class PlayerKycView(PlayerAPIView):
    @extend_schema(
        operation_id="admin_players_kyc",
        summary="Set the player's KYC status (kept in its history and audited)",
        description=ROLE_AND_REASON + " Setting the status the player already has changes nothing (200).",
        parameters=[schema.IDEMPOTENCY_KEY],
        request=KycRequestSerializer,
        responses={200: KycSerializer, **WRITE_ERRORS},
        tags=["operator"],
    )
    @idempotent("admin.players.kyc")
    def post(self, request, player_id):
        player = self.player(player_id)
        self.scope.require(FINANCE, "set a player's KYC status")
        payload = KycRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        player = set_kyc_status(
            player,
            status=data["status"],
            actor=self.actor(),
            reason=data["reason"],
            document_ref=data["document_ref"],
        )
        return Response(KycSerializer({"player": player, "history": kyc_history(player)}).data)


class PlayerBlockView(PlayerAPIView):
    @extend_schema(
        operation_id="admin_players_exclusions_create",
        summary="Block the player: no deposits or play until lifted, or for `days`",
        description=ROLE_AND_REASON + " Withdrawals and reads go on while the player is blocked.",
        parameters=[schema.IDEMPOTENCY_KEY],
        request=BlockRequestSerializer,
        responses={201: PlayerExclusionSerializer, **WRITE_ERRORS},
        tags=["operator"],
    )
    @idempotent("admin.players.block")
    def post(self, request, player_id):
        player = self.player(player_id)
        self.scope.require(FINANCE, "block players")
        payload = BlockRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        block = block_player(player, actor=self.actor(), reason=data["reason"], days=data["days"])
        return Response(PlayerExclusionSerializer(_shown(player, block.pk)).data, status=status.HTTP_201_CREATED)


class LiftBlockView(PlayerAPIView):
    @extend_schema(
        operation_id="admin_players_exclusions_lift",
        summary="Lift an operator block early (409 EXCLUSION_NOT_LIFTABLE for the player's own exclusion)",
        description=ROLE_AND_REASON + " Lifting a block already lifted, or ended, changes nothing (200).",
        parameters=[schema.IDEMPOTENCY_KEY],
        request=ReasonSerializer,
        responses={200: PlayerExclusionSerializer, **LIFT_ERRORS},
        tags=["operator"],
    )
    @idempotent("admin.players.lift")
    def post(self, request, player_id, exclusion_id):
        player = self.player(player_id)
        exclusion = find_exclusion(player, exclusion_id)
        if exclusion is None:
            raise Http404
        self.scope.require(FINANCE, "lift blocks")
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        lift_block(exclusion, actor=self.actor(), reason=payload.validated_data["reason"])
        return Response(PlayerExclusionSerializer(_shown(player, exclusion.pk)).data)


def _shown(player, exclusion_id):
    """The exclusion read back with whether it is active and liftable now."""
    return as_of(find_exclusion(player, exclusion_id), timezone.now())
