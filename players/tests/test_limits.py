"""A player's own limits: a raise waits for the cooling-off, and asking for it again does not restart it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.actors import Actor
from core.models import AuditEvent
from players.limits import limits_of, set_player_limit
from players.models import PlayerLimit
from players.tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db


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
