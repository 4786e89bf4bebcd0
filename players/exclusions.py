"""Exclusions: breaks and self-exclusion the player takes, blocks an operator imposes, the register.

While one is active the player cannot deposit or play; withdrawals, cancels and reads go
on (ARCHITECTURE section 13). It ends by itself at `ends_at`. Nobody shortens or lifts a
player's own exclusion; a new one can only extend it. An operator's block is lifted by an
operator, with a reason. Every change locks the player's row, which deposits read under a
share lock, so an exclusion and a deposit are never decided on each other's blind side.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.actors import Actor, ActorType
from core.audit import record_event
from core.errors import NotFound, PermissionDenied, ReviewReasonRequired, ValidationFailed
from core.unit_of_work import UnitOfWork
from players.errors import ExclusionNotLiftable, ExclusionWouldShorten
from players.models import Exclusion, Player
from players.register import exclusion_register

Kind = Exclusion.Kind
# How long a player may choose (days): a time-out of one day to six weeks, a self-exclusion
# of six months to five years, or for good.
TIMEOUT_DAYS = (1, 42)
SELF_EXCLUSION_DAYS = (180, 1825)
PLAYERS_OWN = (Kind.TIMEOUT, Kind.SELF_EXCLUSION)


def exclusions_of(player: Player, *, limit: int = 100) -> list[Exclusion]:
    """The player's exclusions, newest first (the register's listing is not one of ours)."""
    return list(Exclusion.objects.filter(player=player).order_by("-starts_at", "-id")[:limit])


def active_exclusions(player: Player, now: datetime | None = None):
    now = now or timezone.now()
    return (
        Exclusion.objects.filter(player=player, lifted_at__isnull=True, starts_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by(F("ends_at").desc(nulls_first=True), "-starts_at")  # the longest first
    )


def exclusion_in_force(player: Player, now: datetime | None = None) -> Exclusion | None:
    """The longest active exclusion, or the register's listing (an unsaved Exclusion of kind register)."""
    now = now or timezone.now()
    found = active_exclusions(player, now).first()
    if found is not None:
        return found
    if exclusion_register().is_excluded(player):
        return Exclusion(player=player, tenant_id=player.tenant_id, kind=Kind.REGISTER, starts_at=now, ends_at=None)
    return None


def exclude_self(player: Player, *, kind: str, actor: Actor, days: int | None = None, permanent: bool = False):
    """The player takes a break (timeout) or excludes themselves; it can only extend what is in force."""
    _ends(kind, days, permanent, timezone.now())  # refuse a bad request before taking any lock
    with transaction.atomic():
        _lock_player(player)
        starts = timezone.now()  # after the lock: a deposit that held it committed before this moment
        ends = _ends(kind, days, permanent, starts)
        longest = active_exclusions(player, starts).filter(kind__in=PLAYERS_OWN).first()
        if longest is not None and (longest.ends_at is None or (ends is not None and ends <= longest.ends_at)):
            raise ExclusionWouldShorten(
                "A longer exclusion is already in force; a new one can only extend it.",
                kind=longest.kind,
                ends_at=longest.ends_at.isoformat() if longest.ends_at else None,
            )
        return _create(player, kind, starts, ends, actor=actor, reason="")


def block_player(player: Player, *, actor: Actor, reason: str, days: int | None = None) -> Exclusion:
    """An operator blocks the player (until lifted, or for `days`), with a reason."""
    reason = _reason(reason, "Say why the player is blocked.")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650):
        raise ValidationFailed("days must be from 1 to 3650.", errors={"days": ["From 1 to 3650, or none."]})
    with transaction.atomic():
        _lock_player(player)
        starts = timezone.now()  # after the lock, as for the player's own
        return _create(
            player,
            Kind.OPERATOR_BLOCK,
            starts,
            starts + timedelta(days=days) if days else None,
            actor=actor,
            reason=reason,
        )


def lift_block(exclusion, *, actor: Actor, reason: str) -> Exclusion:
    """An operator lifts an operator's block early; a player's own exclusion cannot be lifted."""
    reason = _reason(reason, "Say why the block is lifted.")
    if actor.type != ActorType.OPERATOR:
        raise PermissionDenied("Only an operator lifts a block.")
    pk = getattr(exclusion, "pk", exclusion)
    with transaction.atomic():
        found = Exclusion.objects.select_related("player__tenant").filter(pk=pk).first()
        if found is None:
            raise NotFound("No such exclusion.")
        _lock_player(found.player)
        found = Exclusion.objects.select_for_update().get(pk=pk)
        if found.kind != Kind.OPERATOR_BLOCK:
            raise ExclusionNotLiftable(
                "Only an operator block can be lifted; the player's own exclusion runs until it ends.", kind=found.kind
            )
        if found.lifted_at is not None or not found.is_active(timezone.now()):
            # Lifting it again, or lifting a block that already ended by itself, changes nothing:
            # the audit trail never says a block was lifted that no longer held.
            return found
        found.lifted_at, found.lifted_by_label, found.lift_reason = timezone.now(), actor.label[:150], reason
        found.save(update_fields=["lifted_at", "lifted_by_label", "lift_reason"])
        _audit(found, actor, "exclusion.lifted", reason)
        return found


def _create(player: Player, kind: str, starts, ends, *, actor: Actor, reason: str) -> Exclusion:
    exclusion = Exclusion.objects.create(
        player=player,
        tenant_id=player.tenant_id,
        kind=kind,
        starts_at=starts,
        ends_at=ends,
        reason=reason,
        actor_type=str(actor.type),
        actor_user_id=actor.user_id,
        actor_label=actor.label[:150],
    )
    _audit(exclusion, actor, "exclusion.started", reason)
    return exclusion


def _audit(exclusion: Exclusion, actor: Actor, action: str, reason: str) -> None:
    uow = UnitOfWork()
    record_event(
        tenant=exclusion.tenant_id,
        actor=actor,
        action=action,
        target=exclusion.player,
        reason=reason,
        data={
            "exclusion": exclusion.pk,
            "kind": exclusion.kind,
            "starts_at": exclusion.starts_at.isoformat(),
            "ends_at": exclusion.ends_at.isoformat() if exclusion.ends_at else None,
        },
        uow=uow,
    )
    uow.flush()


def _ends(kind: str, days, permanent: bool, starts):
    if kind == Kind.TIMEOUT:
        low, high = TIMEOUT_DAYS
        if permanent:
            raise ValidationFailed(
                "A time-out cannot be permanent.", errors={"permanent": ["Only for self-exclusion."]}
            )
    elif kind == Kind.SELF_EXCLUSION:
        low, high = SELF_EXCLUSION_DAYS
        if permanent:
            if days is not None:
                raise ValidationFailed("Give days or permanent, not both.", errors={"days": ["Not with permanent."]})
            return None
    else:
        raise ValidationFailed(
            "kind must be timeout or self_exclusion.", errors={"kind": ["timeout or self_exclusion."]}
        )
    if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= high:
        raise ValidationFailed(f"A {kind} lasts {low} to {high} days.", errors={"days": [f"From {low} to {high}."]})
    return starts + timedelta(days=days)


def _lock_player(player: Player) -> None:
    list(Player.objects.select_for_update().filter(pk=player.pk).values_list("pk", flat=True))


def _reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReviewReasonRequired(message)
    return reason
