"""Risk flags stored with each withdrawal request, and auto-approval of small, clean ones."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditEvent
from payouts.tests.factories import ProviderAccountFactory
from players.models import KycStatus
from players.tests.factories import PlayerFactory
from tenants.models import PaymentPolicy
from tenants.tests.factories import TenantFactory
from wallet.models import Deposit, Withdrawal
from wallet.services import cancel_withdrawal

from .builders import player_of, set_limits, withdraw
from .factories import fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def player():
    return PlayerFactory(tenant=TenantFactory(allowed_currencies=["EUR"]))


def seasoned(player, amount=500_00):
    """A verified player with money deposited long ago and one earlier withdrawal: no flags."""
    fund(player, amount)
    Deposit.objects.filter(player=player).update(created_at=timezone.now() - timedelta(days=3))
    earlier = withdraw(player, 1_00)
    cancel_withdrawal(earlier, actor=player_of(player))
    Withdrawal.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - timedelta(days=3))
    return player


def flags_of(withdrawal) -> list[str]:
    return Withdrawal.objects.get(pk=withdrawal.pk).risk_flags


def test_a_clean_request_has_no_flags(player):
    assert flags_of(withdraw(seasoned(player), 50_00)) == []


def test_the_first_withdrawal_is_flagged_and_the_second_is_not(player):
    fund(player, 100_00)
    Deposit.objects.filter(player=player).update(created_at=timezone.now() - timedelta(days=3))
    assert "first_withdrawal" in flags_of(withdraw(player, 10_00))
    assert "first_withdrawal" not in flags_of(withdraw(player, 10_00))


def test_more_requests_in_24_hours_than_the_casino_allows_flag_velocity(player):
    seasoned(player)
    PaymentPolicy.objects.filter(tenant=player.tenant).update(velocity_withdrawals_per_day=2)
    first, second = withdraw(player, 5_00), withdraw(player, 5_00)
    third = withdraw(player, 5_00)
    assert ["velocity" in flags_of(w) for w in (first, second, third)] == [False, False, True]
    Withdrawal.objects.filter(pk__in=[first.pk, second.pk]).update(created_at=timezone.now() - timedelta(hours=25))
    assert "velocity" not in flags_of(withdraw(player, 5_00))  # the two fell out of the window


def test_velocity_keeps_flagging_past_the_limit_where_the_count_stops(player):
    # the last day's requests are counted only up to the limit: every request past it is flagged still
    seasoned(player)
    PaymentPolicy.objects.filter(tenant=player.tenant).update(velocity_withdrawals_per_day=1)
    requests = [withdraw(player, 1_00) for _ in range(4)]
    assert ["velocity" in flags_of(w) for w in requests] == [False, True, True, True]
    PaymentPolicy.objects.filter(tenant=player.tenant).update(velocity_withdrawals_per_day=0)
    assert "velocity" in flags_of(withdraw(player, 1_00))  # none allowed: every request is one too many


def test_money_deposited_today_and_taken_out_without_play_is_a_fast_cashout(player):
    seasoned(player, amount=10_00)
    fund(player, 100_00)  # deposited now, nothing wagered
    assert "fast_cashout" in flags_of(withdraw(player, 90_00))
    Deposit.objects.filter(player=player).update(created_at=timezone.now() - timedelta(hours=25))
    assert "fast_cashout" not in flags_of(withdraw(player, 10_00))


def test_at_or_above_the_four_eyes_amount_is_large(player):
    seasoned(player)
    set_limits(player.tenant, "EUR", four_eyes_amount=100_00)
    assert "large" in flags_of(withdraw(player, 100_00))
    assert "large" not in flags_of(withdraw(player, 99_99))


def test_a_kyc_change_in_the_last_72_hours_is_flagged(player):
    seasoned(player)
    type(player).objects.filter(pk=player.pk).update(kyc_updated_at=timezone.now() - timedelta(hours=71))
    assert "kyc_changed_recently" in flags_of(withdraw(player, 5_00))
    type(player).objects.filter(pk=player.pk).update(kyc_updated_at=timezone.now() - timedelta(hours=73))
    assert "kyc_changed_recently" not in flags_of(withdraw(player, 5_00))


def test_flags_are_in_the_request_audit_event(player):
    fund(player, 100_00)
    withdrawal = withdraw(player, 90_00)
    event = AuditEvent.objects.get(action="withdrawal.requested", target_id=str(withdrawal.pk))
    assert event.data["risk_flags"] == flags_of(withdrawal) and "first_withdrawal" in event.data["risk_flags"]


# --- auto-approval ---------------------------------------------------------------------------


def request_and_commit(player, amount, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdraw(player, amount)
    return Withdrawal.objects.get(pk=withdrawal.pk)


def test_a_small_clean_request_of_a_verified_player_is_approved_by_the_system(
    player, django_capture_on_commit_callbacks
):
    seasoned(player)
    set_limits(player.tenant, "EUR", auto_approve_below=100_00)
    withdrawal = request_and_commit(player, 99_99, django_capture_on_commit_callbacks)
    assert withdrawal.state == "approved"
    (history,) = withdrawal.transitions.filter(to_state="approved")
    assert (history.actor_type, history.actor_label) == ("system", "auto-approval")
    event = AuditEvent.objects.get(action="withdrawal.auto_approved", target_id=str(withdrawal.pk))
    assert event.data["rule"] == {
        "auto_approve_below": 100_00,
        "amount": 99_99,
        "currency": "EUR",
        "risk_flags": [],
        "kyc_status": "verified",
    }


def test_an_auto_approved_withdrawal_is_dispatched_like_any_approval(player, django_capture_on_commit_callbacks):
    seasoned(player)
    ProviderAccountFactory(tenant=player.tenant)
    set_limits(player.tenant, "EUR", auto_approve_below=100_00)
    withdrawal = request_and_commit(player, 50_00, django_capture_on_commit_callbacks)
    assert withdrawal.state in ("payout_pending", "paid")
    assert withdrawal.payout_attempts.count() == 1


@pytest.mark.parametrize("condition", ["at_threshold", "flagged", "unverified", "four_eyes", "no_threshold"])
def test_each_condition_off_leaves_the_request_to_an_operator(player, condition, django_capture_on_commit_callbacks):
    seasoned(player)
    limits = {"auto_approve_below": 100_00}
    amount = 50_00
    if condition == "at_threshold":
        amount = 100_00
    elif condition == "flagged":
        PaymentPolicy.objects.filter(tenant=player.tenant).update(velocity_withdrawals_per_day=1)
        withdraw(player, 1_00)  # the next request is the second in 24 hours: velocity
    elif condition == "unverified":
        PaymentPolicy.objects.filter(tenant=player.tenant).update(kyc_required_for_withdrawal=False)
        type(player).objects.filter(pk=player.pk).update(kyc_status=KycStatus.PENDING)
    elif condition == "four_eyes":
        limits["four_eyes_amount"] = 40_00  # also flags it large; approval needs two operators
    elif condition == "no_threshold":
        limits = {}
    set_limits(player.tenant, "EUR", **limits)
    withdrawal = request_and_commit(player, amount, django_capture_on_commit_callbacks)
    assert withdrawal.state == "requested"
    assert not AuditEvent.objects.filter(action="withdrawal.auto_approved").exists()


def test_the_rule_is_checked_again_when_the_approval_runs(player, django_capture_on_commit_callbacks):
    seasoned(player)
    limit_row = set_limits(player.tenant, "EUR", auto_approve_below=100_00)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        withdrawal = withdraw(player, 50_00)
    limit_row.auto_approve_below = 20_00  # tightened between the request and its approval
    limit_row.save(update_fields=["auto_approve_below"])
    for callback in callbacks:
        callback()
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "requested"
