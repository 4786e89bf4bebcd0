"""What protects a player, as an operator reads it: KYC status and history, limits, exclusions.

Read through the players app's own functions (`limits_of`, `exclusion_in_force`), so the
operator sees what the money path applies: a pending raise that is due counts as in
force, an exclusion that ended by itself is past, and a listing in the exclusion register
is in force though it is no row of ours. Histories are bounded: the latest HISTORY rows.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from core.ids import whole_number
from players.exclusions import exclusion_in_force
from players.limits import LimitView, limits_of
from players.models import Exclusion, KycCheck, Player

HISTORY = 100  # KYC changes and exclusions shown, newest first


@dataclass
class Protection:
    kyc_status: str
    kyc_updated_at: datetime | None
    kyc_history: list[KycCheck]
    limits: list[LimitView]
    in_force: Exclusion | None  # the longest active exclusion, or the register's listing (unsaved)
    active: list[Exclusion] = field(default_factory=list)
    past: list[Exclusion] = field(default_factory=list)

    @property
    def excluded(self) -> bool:
        return self.in_force is not None


def player_protection(player: Player, *, now: datetime | None = None) -> Protection:
    """The player's KYC, limits and exclusions at `now`; each exclusion knows if it is active and liftable."""
    now = now or timezone.now()
    active, past = [], []
    for exclusion in Exclusion.objects.filter(player=player).order_by("-starts_at", "-id")[:HISTORY]:
        (active if as_of(exclusion, now).active else past).append(exclusion)
    return Protection(
        kyc_status=player.kyc_status,
        kyc_updated_at=player.kyc_updated_at,
        kyc_history=kyc_history(player),
        limits=limits_of(player, now=now),
        in_force=exclusion_in_force(player, now),
        active=active,
        past=past,
    )


def kyc_history(player: Player) -> list[KycCheck]:
    """The player's KYC changes, newest first (the latest HISTORY)."""
    return list(KycCheck.objects.filter(player=player).order_by("-created_at", "-id")[:HISTORY])


def as_of(exclusion: Exclusion, now: datetime) -> Exclusion:
    """Mark `exclusion` with whether it is active and liftable at `now`."""
    exclusion.active = exclusion.is_active(now)
    # Only an operator's block is lifted, and only while it holds (players.exclusions.lift_block).
    exclusion.liftable = exclusion.active and exclusion.kind == Exclusion.Kind.OPERATOR_BLOCK
    return exclusion


def find_exclusion(player: Player, exclusion_id) -> Exclusion | None:
    """One exclusion of `player` (found through the operator's scope), or None: another player's id is not found."""
    pk = whole_number(str(exclusion_id))
    return None if pk is None else Exclusion.objects.filter(player=player, pk=pk).first()
