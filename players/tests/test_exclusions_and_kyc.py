"""Exclusions (breaks, self-exclusion, operator blocks, the register) and KYC status changes."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from core.actors import Actor
from core.errors import PermissionDenied, ReviewReasonRequired, ValidationFailed
from core.models import AuditEvent
from players.errors import ExclusionNotLiftable, ExclusionWouldShorten
from players.exclusions import block_player, exclude_self, exclusion_in_force, lift_block
from players.kyc import set_kyc_status
from players.models import Exclusion, KycCheck, KycStatus, RegisterListing
from players.tests.factories import PlayerFactory
from tenants.tests.factories import OperatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def player():
    return PlayerFactory()


@pytest.fixture
def operator(player):
    return Actor.operator(OperatorFactory(tenant=player.tenant, role="finance").user)


def me(player) -> Actor:
    return Actor.player(player.user)


@pytest.mark.parametrize(
    ("kind", "days"), [("timeout", 1), ("timeout", 42), ("self_exclusion", 180), ("self_exclusion", 1825)]
)
def test_a_player_excludes_themselves_within_the_ranges(player, kind, days):
    exclusion = exclude_self(player, kind=kind, days=days, actor=me(player))
    assert exclusion.ends_at - exclusion.starts_at == timedelta(days=days)
    assert exclusion_in_force(player) == exclusion
    event = AuditEvent.objects.get(action="exclusion.started", target_id=str(player.pk))
    assert event.data["kind"] == kind and event.actor_type == "player"


@pytest.mark.parametrize(
    "request_",
    [
        {"kind": "timeout", "days": 0},
        {"kind": "timeout", "days": 43},
        {"kind": "timeout", "permanent": True},
        {"kind": "self_exclusion", "days": 179},
        {"kind": "self_exclusion", "days": 1826},
        {"kind": "self_exclusion", "days": 200, "permanent": True},
        {"kind": "operator_block", "days": 5},
        {"kind": "timeout", "days": "5"},
    ],
)
def test_out_of_range_exclusions_are_refused(player, request_):
    with pytest.raises(ValidationFailed):
        exclude_self(player, actor=me(player), **request_)
    assert not Exclusion.objects.exists()


def test_a_permanent_self_exclusion_never_ends(player):
    exclusion = exclude_self(player, kind="self_exclusion", permanent=True, actor=me(player))
    assert exclusion.ends_at is None
    assert exclusion_in_force(player, timezone.now() + timedelta(days=3650)) == exclusion


def test_an_exclusion_ends_by_itself(player):
    exclusion = exclude_self(player, kind="timeout", days=1, actor=me(player))
    assert exclusion_in_force(player, exclusion.ends_at - timedelta(seconds=1)) == exclusion
    assert exclusion_in_force(player, exclusion.ends_at) is None


def test_nobody_shortens_a_players_own_exclusion_but_it_can_be_extended(player):
    long = exclude_self(player, kind="self_exclusion", days=365, actor=me(player))
    with pytest.raises(ExclusionWouldShorten):
        exclude_self(player, kind="timeout", days=7, actor=me(player))
    with pytest.raises(ExclusionWouldShorten):
        exclude_self(player, kind="self_exclusion", days=200, actor=me(player))
    longer = exclude_self(player, kind="self_exclusion", days=400, actor=me(player))
    assert exclusion_in_force(player) == longer and long.pk != longer.pk
    forever = exclude_self(player, kind="self_exclusion", permanent=True, actor=me(player))
    with pytest.raises(ExclusionWouldShorten):
        exclude_self(player, kind="self_exclusion", days=1825, actor=me(player))
    assert exclusion_in_force(player) == forever


def test_an_operator_blocks_with_a_reason_and_lifts_with_one(player, operator):
    with pytest.raises(ReviewReasonRequired):
        block_player(player, actor=operator, reason=" ")
    block = block_player(player, actor=operator, reason="Suspected account takeover")
    assert exclusion_in_force(player) == block and block.ends_at is None
    with pytest.raises(ReviewReasonRequired):
        lift_block(block, actor=operator, reason="")
    lifted = lift_block(block, actor=operator, reason="Identity confirmed by phone")
    assert lifted.lifted_at is not None and exclusion_in_force(player) is None
    assert lift_block(block, actor=operator, reason="again").lifted_at == lifted.lifted_at  # no-op
    assert list(
        AuditEvent.objects.filter(target_id=str(player.pk)).order_by("id").values_list("action", flat=True)
    ) == ["exclusion.started", "exclusion.lifted"]


def test_a_players_own_exclusion_cannot_be_lifted_by_anyone(player, operator):
    own = exclude_self(player, kind="timeout", days=3, actor=me(player))
    with pytest.raises(ExclusionNotLiftable):
        lift_block(own, actor=operator, reason="The player asked nicely")
    with pytest.raises(PermissionDenied):
        lift_block(own, actor=me(player), reason="I changed my mind")
    assert exclusion_in_force(player) == own
    # and the database refuses a lifted self-exclusion too
    with pytest.raises(DatabaseError), transaction.atomic():
        Exclusion.objects.filter(pk=own.pk).update(lifted_at=timezone.now())


def test_a_listing_in_the_register_excludes_the_player(player):
    assert exclusion_in_force(player) is None
    RegisterListing.objects.create(key=player.user.username)
    found = exclusion_in_force(player)
    assert (found.kind, found.ends_at, found.pk) == ("register", None, None)


def test_an_operator_sets_kyc_with_a_reason_and_the_history_keeps_every_step(player, operator):
    player.kyc_status = KycStatus.UNVERIFIED
    player.save(update_fields=["kyc_status"])
    set_kyc_status(player, status="pending", actor=operator, reason="Documents received", document_ref="DMS-17")
    updated = set_kyc_status(
        player, status="verified", actor=operator, reason="Passport checked", document_ref="DMS-17"
    )
    assert updated.kyc_status == "verified" and updated.kyc_updated_at is not None
    history = list(KycCheck.objects.filter(player=player).order_by("id").values_list("from_status", "to_status"))
    assert history == [("unverified", "pending"), ("pending", "verified")]
    events = AuditEvent.objects.filter(action="kyc.status_changed", target_id=str(player.pk)).order_by("id")
    assert [(e.before_state, e.after_state, e.reason) for e in events] == [
        ("unverified", "pending", "Documents received"),
        ("pending", "verified", "Passport checked"),
    ]
    # the same status again records nothing
    set_kyc_status(player, status="verified", actor=operator, reason="again")
    assert KycCheck.objects.filter(player=player).count() == 2
    # and the history cannot be rewritten
    with pytest.raises(DatabaseError), transaction.atomic():
        KycCheck.objects.filter(player=player).update(reason="edited")


def test_kyc_needs_an_operator_a_known_status_and_a_reason(player, operator):
    with pytest.raises(PermissionDenied):
        set_kyc_status(player, status="verified", actor=me(player), reason="trust me")
    with pytest.raises(ValidationFailed):
        set_kyc_status(player, status="approved", actor=operator, reason="x")
    with pytest.raises(ReviewReasonRequired):
        set_kyc_status(player, status="rejected", actor=operator, reason="")
    assert not KycCheck.objects.exists()
