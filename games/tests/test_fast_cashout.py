"""`fast_cashout` on real play: bets placed since the deposits of the last 24 hours, less the
bets rolled back, against what was deposited (wallet.risk)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from wallet.models import Deposit, Withdrawal
from wallet.tests.builders import withdraw
from wallet.tests.factories import fund

pytestmark = pytest.mark.django_db


def flags_of(withdrawal) -> list[str]:
    return Withdrawal.objects.get(pk=withdrawal.pk).risk_flags


def test_play_of_just_under_the_deposit_is_a_fast_cashout(provider, token, player, wallet):
    provider.bet(token, "b-1", amount="99.99")
    provider.win(token, "w-1", amount="99.99")
    assert "fast_cashout" in flags_of(withdraw(player, 90_00))


def test_play_of_the_whole_deposit_is_not(provider, token, player, wallet):
    provider.bet(token, "b-1", amount="100.00")
    provider.win(token, "w-1", amount="100.00")
    assert "fast_cashout" not in flags_of(withdraw(player, 90_00))


def test_a_rolled_back_bet_is_no_play(provider, token, player, wallet):
    provider.bet(token, "b-1", amount="100.00")
    provider.rollback(token, "rb-1", "b-1", amount="100.00")
    assert "fast_cashout" in flags_of(withdraw(player, 90_00))


def test_play_before_the_recent_deposit_does_not_count(provider, token, player, wallet):
    # given money deposited long ago and wagered, then a fresh deposit not played at all
    Deposit.objects.filter(player=player).update(created_at=timezone.now() - timedelta(hours=25))
    provider.bet(token, "b-1", amount="100.00")
    provider.win(token, "w-1", amount="100.00")
    fund(player, 100_00)
    # the old rule (bets in the window) saw 100 wagered; the fresh deposit saw none
    assert "fast_cashout" in flags_of(withdraw(player, 90_00))
