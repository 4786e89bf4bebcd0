"""Daily deposit and withdrawal limits: what counts, for whom, on which day, and the refusal."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from core.models import AuditEvent
from players.tests.factories import PlayerFactory
from tenants.tests.factories import TenantFactory
from wallet.errors import TenantPaymentLimitExceeded
from wallet.models import Deposit, Withdrawal

from .builders import (
    AMOUNT,
    DEPOSIT_STATES,
    WITHDRAWAL_STATES,
    deposit,
    deposit_in_state,
    set_limits,
    withdraw,
    withdrawal_in_state,
)
from .factories import fund
from .invariants import assert_invariants, expect_no_change

pytestmark = pytest.mark.django_db

# The design's counting table (section 5).
DEPOSIT_COUNTS = {"created": True, "pending_provider": True, "completed": True, "failed": False}
WITHDRAWAL_COUNTS = {
    "requested": True,
    "approved": True,
    "payout_pending": True,
    "payout_failed": True,
    "paid": True,
    "rejected": False,
    "canceled": False,
}


def test_the_counting_tables_cover_every_state():
    assert set(DEPOSIT_COUNTS) == set(DEPOSIT_STATES)
    assert set(WITHDRAWAL_COUNTS) == set(WITHDRAWAL_STATES)


@pytest.mark.parametrize("state", DEPOSIT_STATES)
def test_deposit_usage_counts_open_and_completed_deposits(state):
    # given a daily deposit limit of two amounts and one deposit today in `state`
    player = PlayerFactory()
    set_limits(player.tenant, daily_deposit_limit=2 * AMOUNT)
    deposit_in_state(state, player=player)
    used = AMOUNT if DEPOSIT_COUNTS[state] else 0
    # when the player opens a deposit of the whole limit
    if used:
        # then it is refused if the earlier one counts, with today's usage in the refusal
        with expect_no_change(audit_actions=("limit.refused",)), pytest.raises(TenantPaymentLimitExceeded) as refused:
            deposit(player, 2 * AMOUNT)
        assert refused.value.used == used
    else:
        # and accepted if it does not
        assert deposit(player, 2 * AMOUNT).state == "created"
    assert_invariants()


@pytest.mark.parametrize("state", WITHDRAWAL_STATES)
def test_withdrawal_usage_counts_everything_but_rejected_and_canceled(state):
    # given a daily withdrawal limit of two amounts and one withdrawal today in `state`
    player = PlayerFactory()
    set_limits(player.tenant, daily_withdraw_limit=2 * AMOUNT)
    withdrawal_in_state(state, player=player)
    fund(player, 2 * AMOUNT)
    used = AMOUNT if WITHDRAWAL_COUNTS[state] else 0
    # when the player asks to withdraw the whole limit
    if used:
        with expect_no_change(audit_actions=("limit.refused",)), pytest.raises(TenantPaymentLimitExceeded) as refused:
            withdraw(player, 2 * AMOUNT)
        assert refused.value.used == used
    else:
        assert withdraw(player, 2 * AMOUNT).state == "requested"
    assert_invariants()


def test_a_refusal_names_the_limit_and_is_audited():
    # given a player who deposited 30.00 today against a 50.00 limit
    player = PlayerFactory()
    set_limits(player.tenant, daily_deposit_limit=50_00)
    deposit(player, 30_00)
    # when they try another 25.00
    with expect_no_change(audit_actions=("limit.refused",)), pytest.raises(TenantPaymentLimitExceeded) as refused:
        deposit(player, 25_00)
    # then the refusal carries the contract's code and fields as decimal strings
    error = refused.value
    assert (error.error_code, error.status) == ("TENANT_PAYMENT_LIMIT_EXCEEDED", 422)
    fields = {"action": "deposit", "limit": "50.00", "used": "30.00", "requested": "25.00", "currency": "EUR"}
    assert error.problem_fields() == fields
    # and the audit trail says who was refused and why
    audit = AuditEvent.objects.get(action="limit.refused")
    assert (audit.tenant_id, audit.target_type, audit.target_id) == (player.tenant_id, "player", str(player.pk))
    assert (audit.actor_type, audit.actor_user_id) == ("player", player.user_id)
    assert audit.data == {"error_code": "TENANT_PAYMENT_LIMIT_EXCEEDED", **fields}
    assert audit.reason == error.detail


def test_a_withdrawal_refusal_names_the_withdraw_action():
    player = PlayerFactory()
    set_limits(player.tenant, daily_withdraw_limit=10_00)
    fund(player, 100_00)
    with expect_no_change(audit_actions=("limit.refused",)), pytest.raises(TenantPaymentLimitExceeded) as refused:
        withdraw(player, 10_01)
    assert refused.value.problem_fields() == {
        "action": "withdraw",
        "limit": "10.00",
        "used": "0.00",
        "requested": "10.01",
        "currency": "EUR",
    }


def test_a_refused_first_deposit_leaves_no_wallet_behind():
    # given a tenant that allows no deposits today, and a player without a wallet
    player = PlayerFactory()
    set_limits(player.tenant, daily_deposit_limit=0)
    # when the player tries to deposit, then it is refused and no wallet is created
    with expect_no_change(audit_actions=("limit.refused",)), pytest.raises(TenantPaymentLimitExceeded):
        deposit(player, 1)
    assert not player.wallets.exists()


def test_a_deposit_up_to_exactly_the_limit_is_allowed():
    player = PlayerFactory()
    set_limits(player.tenant, daily_deposit_limit=50_00)
    deposit(player, 20_00)
    assert deposit(player, 30_00).state == "created"


def test_limits_are_per_player():
    # given one player who used the whole limit
    first = PlayerFactory()
    set_limits(first.tenant, daily_deposit_limit=AMOUNT)
    deposit(first, AMOUNT)
    # then another player of the same tenant still has all of theirs
    second = PlayerFactory(tenant=first.tenant)
    assert deposit(second, AMOUNT).state == "created"


def test_limits_are_per_currency():
    # given a player who used the whole EUR and USD limits in EUR only
    player = PlayerFactory()
    set_limits(player.tenant, "EUR", daily_deposit_limit=AMOUNT)
    set_limits(player.tenant, "USD", daily_deposit_limit=AMOUNT)
    deposit(player, AMOUNT, "EUR")
    # then the USD allowance is untouched
    assert deposit(player, AMOUNT, "USD").state == "created"
    with pytest.raises(TenantPaymentLimitExceeded):
        deposit(player, 1, "EUR")


def _local_midnight(zone_name: str) -> datetime:
    zone = ZoneInfo(zone_name)
    return datetime.combine(timezone.now().astimezone(zone).date(), time.min, tzinfo=zone)


@pytest.mark.parametrize("zone", ["Pacific/Auckland", "America/Los_Angeles"])
def test_deposit_limit_resets_at_local_midnight(zone):
    # given a tenant far from UTC and a player who used the whole limit
    player = PlayerFactory(tenant=TenantFactory(time_zone=zone))
    set_limits(player.tenant, daily_deposit_limit=AMOUNT)
    earlier = deposit(player, AMOUNT)
    midnight = _local_midnight(zone)
    # when that deposit was made just after local midnight (another UTC day for Auckland), it still counts
    Deposit.objects.filter(pk=earlier.pk).update(created_at=midnight + timedelta(seconds=1))
    with pytest.raises(TenantPaymentLimitExceeded):
        deposit(player, 1)
    # and when it was made just before local midnight, it belongs to yesterday and no longer counts
    Deposit.objects.filter(pk=earlier.pk).update(created_at=midnight - timedelta(seconds=1))
    assert deposit(player, AMOUNT).state == "created"


def test_withdrawal_limit_resets_at_local_midnight():
    player = PlayerFactory(tenant=TenantFactory(time_zone="Pacific/Auckland"))
    set_limits(player.tenant, daily_withdraw_limit=AMOUNT)
    fund(player, 2 * AMOUNT)
    earlier = withdraw(player, AMOUNT)
    with pytest.raises(TenantPaymentLimitExceeded):
        withdraw(player, 1)
    Withdrawal.objects.filter(pk=earlier.pk).update(
        created_at=_local_midnight("Pacific/Auckland") - timedelta(seconds=1)
    )
    assert withdraw(player, AMOUNT).state == "requested"
    assert_invariants()


@pytest.mark.django_db(transaction=True)
def test_the_refusal_audit_is_committed_although_the_request_rolls_back():
    # given a tenant that allows no deposits (and autocommit, as in production)
    player = PlayerFactory()
    set_limits(player.tenant, daily_deposit_limit=0)
    # when a deposit is refused
    with pytest.raises(TenantPaymentLimitExceeded):
        deposit(player, AMOUNT)
    # then the refusal is in the audit trail and nothing else is
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["limit.refused"]
    assert not Deposit.objects.exists() and not player.wallets.exists()
