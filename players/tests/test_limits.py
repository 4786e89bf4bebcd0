"""Limits a player sets: lowering at once, raising after the cooling-off, the boundary exact."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.actors import Actor
from core.errors import ValidationFailed
from core.models import AuditEvent
from players.limits import in_force, limits_of, set_player_limit
from players.models import PlayerLimit
from players.tests.factories import PlayerFactory
from tenants.models import PaymentPolicy
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def player():
    tenant = TenantFactory(allowed_currencies=["EUR", "USD"])
    PaymentPolicy.objects.filter(tenant=tenant).update(limit_increase_cooldown_hours=24)
    return PlayerFactory(tenant=tenant)


def set_limit(player, amount, *, kind="deposit", period="day", currency="EUR"):
    return set_player_limit(
        player, currency=currency, kind=kind, period=period, amount=amount, actor=Actor.player(player.user)
    )


def stored(player, *, kind="deposit", period="day", currency="EUR") -> PlayerLimit:
    return PlayerLimit.objects.get(player=player, kind=kind, period=period, currency=currency)


def actions(player) -> list[str]:
    return list(AuditEvent.objects.filter(target_id=str(player.pk)).order_by("id").values_list("action", flat=True))


def test_a_new_limit_applies_at_once(player):
    view = set_limit(player, 100_00)
    assert (view.amount, view.pending) == (100_00, False)
    assert actions(player) == ["player_limit.set"]


def test_lowering_applies_at_once(player):
    set_limit(player, 100_00)
    view = set_limit(player, 50_00)
    assert (view.amount, view.pending) == (50_00, False)
    assert actions(player) == ["player_limit.set", "player_limit.lowered"]


def test_raising_waits_for_the_cooling_off_and_the_lower_limit_stays_in_force(player):
    set_limit(player, 100_00)
    before = timezone.now()
    view = set_limit(player, 500_00)
    assert (view.amount, view.pending, view.pending_amount) == (100_00, True, 500_00)
    assert before + timedelta(hours=24) <= view.pending_effective_at <= timezone.now() + timedelta(hours=24)
    assert actions(player)[-1] == "player_limit.raise_requested"


def test_the_boundary_of_the_cooling_off_is_exact(player):
    set_limit(player, 100_00)
    set_limit(player, 500_00)
    limit = stored(player)
    effective = limit.pending_effective_at
    assert in_force(limit, effective - timedelta(microseconds=1)) == 100_00
    assert in_force(limit, effective) == 500_00
    assert limits_of(player, now=effective - timedelta(seconds=1))[0].pending is True
    (after,) = limits_of(player, now=effective + timedelta(seconds=1))
    assert (after.amount, after.pending) == (500_00, False)


def test_removing_a_limit_waits_too(player):
    set_limit(player, 100_00)
    view = set_limit(player, None)
    assert (view.amount, view.pending, view.pending_amount) == (100_00, True, None)
    effective = stored(player).pending_effective_at
    assert limits_of(player, now=effective) == []  # once due, no limit at all


def test_a_decrease_cancels_a_pending_raise(player):
    set_limit(player, 100_00)
    set_limit(player, 500_00)
    view = set_limit(player, 80_00)
    assert (view.amount, view.pending) == (80_00, False)
    assert stored(player).pending is False


def test_setting_the_limit_in_force_again_withdraws_a_pending_raise(player):
    set_limit(player, 100_00)
    set_limit(player, 500_00)
    view = set_limit(player, 100_00)
    assert (view.amount, view.pending) == (100_00, False)
    assert actions(player)[-1] == "player_limit.raise_canceled"


def test_a_raise_once_due_is_the_base_of_the_next_change(player):
    set_limit(player, 100_00)
    set_limit(player, 500_00)
    PlayerLimit.objects.filter(pk=stored(player).pk).update(pending_effective_at=timezone.now() - timedelta(seconds=1))
    view = set_limit(player, 300_00)  # a decrease from the 500.00 now in force: at once
    assert (view.amount, view.pending) == (300_00, False)


def test_the_same_limit_again_changes_nothing(player):
    set_limit(player, 100_00)
    set_limit(player, 100_00)
    assert actions(player) == ["player_limit.set"]


def test_each_kind_period_and_currency_is_its_own_limit(player):
    set_limit(player, 100_00, period="day")
    set_limit(player, 300_00, period="week")
    set_limit(player, 50_00, kind="loss", period="day")
    set_limit(player, 70_00, currency="USD")
    shown = {(v.currency, v.kind, v.period): v.amount for v in limits_of(player)}
    assert shown == {
        ("EUR", "deposit", "day"): 100_00,
        ("EUR", "deposit", "week"): 300_00,
        ("EUR", "loss", "day"): 50_00,
        ("USD", "deposit", "day"): 70_00,
    }


@pytest.mark.parametrize(
    "change",
    [
        {"currency": "JPY"},
        {"kind": "wager"},
        {"period": "year"},
        {"amount": 0},
        {"amount": -5},
        {"amount": True},
        {"amount": "10"},
    ],
)
def test_invalid_limits_are_refused_and_nothing_is_stored(player, change):
    values = {"currency": "EUR", "kind": "deposit", "period": "day", "amount": 100_00, **change}
    with pytest.raises(ValidationFailed):
        set_player_limit(player, actor=Actor.player(player.user), **values)
    assert not PlayerLimit.objects.filter(player=player).exists()


def _set(player, amount, **key):
    key = {"currency": "EUR", "kind": "deposit", "period": "day", **key}
    return set_player_limit(player, amount=amount, actor=Actor.player(player.user), **key)


@pytest.mark.parametrize("requested", [200_00, None], ids=["raise", "removal"])
def test_the_same_pending_change_again_keeps_its_place_in_the_cooling_off(requested):
    # given a limit of 100.00 and a raise (or removal) waiting for its cooling-off
    player = PlayerFactory()
    _set(player, 100_00)
    first = _set(player, requested)
    assert first.pending and first.pending_amount == requested
    events = AuditEvent.objects.count()
    # when the player (or a client retrying its PUT) asks for the same change again
    again = _set(player, requested)
    # then nothing changes: the same date, no second audit event
    assert again == first
    assert AuditEvent.objects.count() == events
    assert PlayerLimit.objects.get(player=player).pending_effective_at == first.pending_effective_at


def test_a_different_raise_starts_the_cooling_off_again():
    # given a raise to 200.00 waiting
    player = PlayerFactory()
    _set(player, 100_00)
    first = _set(player, 200_00)
    # when the player asks for 300.00 instead
    second = _set(player, 300_00)
    # then that one waits, from now, and the 100.00 stays in force
    assert (second.amount, second.pending_amount) == (100_00, 300_00)
    assert second.pending_effective_at > first.pending_effective_at


def test_a_due_raise_is_in_force_and_no_longer_pending():
    # given a raise whose cooling-off is over
    player = PlayerFactory()
    _set(player, 100_00)
    _set(player, 200_00)
    PlayerLimit.objects.filter(player=player).update(pending_effective_at=timezone.now() - timedelta(seconds=1))
    # then the player's limits show 200.00 in force and nothing waiting
    (view,) = limits_of(player)
    assert (view.amount, view.pending, view.pending_amount, view.pending_effective_at) == (200_00, False, None, None)
