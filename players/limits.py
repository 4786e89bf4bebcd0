"""Limits players set on themselves: lowering applies at once, raising waits for the cooling-off.

A limit in force is never loosened on the spot (ARCHITECTURE section 13): a raise or a
removal is kept as pending until `pending_effective_at` (the tenant's
`limit_increase_cooldown_hours`), the lower limit staying in force meanwhile; a later
decrease, or setting the limit in force again, cancels the pending raise. Whether a
pending change is due is decided by the clock at each read (`in_force`), so the
boundary is exact whether or not anything ran at that moment.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.actors import Actor
from core.audit import record_event
from core.errors import ValidationFailed
from core.money import MAX_MINOR_UNITS
from core.unit_of_work import UnitOfWork
from players.models import LimitKind, LimitPeriod, Player, PlayerLimit
from tenants.selectors import payment_policy


@dataclass(frozen=True)
class LimitView:
    """A limit as the player sees it at a moment: what is in force and what waits."""

    currency: str
    kind: str
    period: str
    amount: int | None
    pending: bool
    pending_amount: int | None
    pending_effective_at: datetime | None


def in_force(limit: PlayerLimit, now: datetime) -> int | None:
    """The amount in force at `now` (None: no limit), a due pending change included."""
    if limit.pending and now >= limit.pending_effective_at:
        return limit.pending_amount
    return limit.amount


def view_of(limit: PlayerLimit, now: datetime) -> LimitView:
    waiting = limit.pending and now < limit.pending_effective_at
    return LimitView(
        currency=limit.currency,
        kind=limit.kind,
        period=limit.period,
        amount=in_force(limit, now),
        pending=waiting,
        pending_amount=limit.pending_amount if waiting else None,
        pending_effective_at=limit.pending_effective_at if waiting else None,
    )


def limits_of(player: Player, *, now: datetime | None = None, kind: str | None = None) -> list[LimitView]:
    """The player's limits in force or waiting, per currency, kind and period."""
    now = now or timezone.now()
    rows = PlayerLimit.objects.filter(player=player)
    if kind:
        rows = rows.filter(kind=kind)
    views = [view_of(limit, now) for limit in rows.order_by("currency", "kind", "period")]
    return [v for v in views if v.amount is not None or v.pending]


def set_player_limit(
    player: Player, *, currency: str, kind: str, period: str, amount: int | None, actor: Actor
) -> LimitView:
    """Set the player's `kind` limit per `period` in `currency` (`amount` None: remove it).

    Lowering it, or setting one where there was none, applies at once and cancels a
    pending raise; raising or removing it waits for the tenant's cooling-off. Audited.
    """
    _validate(player, currency, kind, period, amount)
    now = timezone.now()
    with transaction.atomic():
        limit = _lock(player, currency, kind, period)
        current = in_force(limit, now)
        before = _plain(limit, now)
        if amount is not None and (current is None or amount <= current):
            if amount == current and not before["pending"]:
                return view_of(limit, now)  # the same limit again: nothing changes
            limit.amount, limit.pending, limit.pending_amount, limit.pending_effective_at = amount, False, None, None
            if current is None:
                action = "player_limit.set"
            else:
                action = "player_limit.lowered" if amount < current else "player_limit.raise_canceled"
        elif amount == current:  # removing a limit that is not there
            return view_of(limit, now)
        elif before["pending"] and amount == limit.pending_amount:
            # The same raise or removal again (a client's retry of its PUT): it keeps its
            # place in the cooling-off rather than starting it over.
            return view_of(limit, now)
        else:
            hours = payment_policy(player.tenant).limit_increase_cooldown_hours
            limit.amount = current  # a due pending change is settled first
            limit.pending, limit.pending_amount = True, amount
            limit.pending_effective_at = now + timedelta(hours=hours)
            action = "player_limit.raise_requested"
        limit.save()
        uow = UnitOfWork()
        record_event(
            tenant=player.tenant_id,
            actor=actor,
            action=action,
            target=player,
            data={"currency": currency, "kind": kind, "period": period, "before": before, "after": _plain(limit, now)},
            uow=uow,
        )
        uow.flush()
        return view_of(limit, now)


def _lock(player: Player, currency: str, kind: str, period: str) -> PlayerLimit:
    key = {"player": player, "currency": currency, "kind": kind, "period": period}
    PlayerLimit.objects.bulk_create([PlayerLimit(tenant_id=player.tenant_id, **key)], ignore_conflicts=True)
    return PlayerLimit.objects.select_for_update().get(**key)


def _plain(limit: PlayerLimit, now: datetime) -> dict:
    view = view_of(limit, now)
    return {
        "amount": view.amount,
        "pending": view.pending,
        "pending_amount": view.pending_amount,
        "pending_effective_at": view.pending_effective_at.isoformat() if view.pending_effective_at else None,
    }


def _validate(player: Player, currency: str, kind: str, period: str, amount: int | None) -> None:
    errors = {}
    if currency not in player.tenant.allowed_currencies:
        errors["currency"] = [f"Must be one of: {', '.join(player.tenant.allowed_currencies)}."]
    if kind not in LimitKind.values:
        errors["kind"] = [f"Must be one of: {', '.join(LimitKind.values)}."]
    if period not in LimitPeriod.values:
        errors["period"] = [f"Must be one of: {', '.join(LimitPeriod.values)}."]
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0):
        errors["amount"] = ["Must be greater than zero, or null to remove the limit."]
    elif amount is not None and amount > MAX_MINOR_UNITS:
        errors["amount"] = ["Amount is too large."]
    if errors:
        raise ValidationFailed("The limit is not valid.", errors=errors)
