"""Which way each control tightens: the table behind the policy maker-checker."""

import pytest

from tenants.models import CurrencyLimit, PaymentPolicy
from tenants.policy import CURRENCY_CONTROLS, POLICY_CONTROLS, FieldChange, apply_changes, differences

BASE = {
    "payout_retry_limit": 3,
    "payout_cooldown_seconds": 60,
    "limit_increase_cooldown_hours": 24,
    "kyc_required_for_withdrawal": True,
    "player_cancel_allowed": True,
    "velocity_withdrawals_per_day": 3,
    "closed_loop": True,
    "game_round_idle_minutes": 60,
    "currency_limits": [],
}


def eur(**limits) -> dict:
    return {**BASE, "currency_limits": [{"currency": "EUR", **dict.fromkeys(CURRENCY_CONTROLS), **limits}]}


@pytest.mark.parametrize(
    ("before", "after", "loosens"),
    [
        # limits and thresholds: empty means no limit at all
        (eur(daily_withdraw_limit=500_00), eur(daily_withdraw_limit=400_00), False),
        (eur(), eur(daily_withdraw_limit=400_00), False),
        (eur(daily_withdraw_limit=500_00), eur(daily_withdraw_limit=600_00), True),
        (eur(daily_withdraw_limit=500_00), eur(), True),
        (eur(daily_deposit_limit=0), eur(daily_deposit_limit=1), True),
        (eur(max_amount=100_00), eur(max_amount=99_99), False),
        (eur(four_eyes_amount=1000_00), eur(four_eyes_amount=500_00), False),
        (eur(), eur(four_eyes_amount=500_00), False),
        (eur(four_eyes_amount=1000_00), eur(four_eyes_amount=5000_00), True),
        (eur(four_eyes_amount=1000_00), eur(), True),
        # a minimum tightens upwards
        (eur(), eur(min_amount=10_00), False),
        (eur(min_amount=10_00), eur(min_amount=20_00), False),
        (eur(min_amount=10_00), eur(min_amount=5_00), True),
        (eur(min_amount=10_00), eur(), True),
        # a currency that disappears takes its limits with it
        (eur(daily_withdraw_limit=500_00), BASE, True),
        (BASE, eur(max_amount=100_00), False),
        # payout retries: fewer attempts and a longer cooldown tighten
        (BASE, {**BASE, "payout_retry_limit": 2}, False),
        (BASE, {**BASE, "payout_retry_limit": 4}, True),
        (BASE, {**BASE, "payout_cooldown_seconds": 120}, False),
        (BASE, {**BASE, "payout_cooldown_seconds": 0}, True),
        # player protection and review (sections 13 and 14)
        (BASE, {**BASE, "limit_increase_cooldown_hours": 48}, False),
        (BASE, {**BASE, "limit_increase_cooldown_hours": 1}, True),
        (BASE, {**BASE, "kyc_required_for_withdrawal": False}, True),
        ({**BASE, "kyc_required_for_withdrawal": False}, BASE, False),
        (BASE, {**BASE, "player_cancel_allowed": False}, False),
        ({**BASE, "player_cancel_allowed": False}, BASE, True),
        # the closed loop: on tightens, off loosens
        ({**BASE, "closed_loop": False}, BASE, False),
        (BASE, {**BASE, "closed_loop": False}, True),
        (BASE, {**BASE, "velocity_withdrawals_per_day": 2}, False),
        (BASE, {**BASE, "velocity_withdrawals_per_day": 5}, True),
        (BASE, {**BASE, "game_round_idle_minutes": 30}, False),
        (BASE, {**BASE, "game_round_idle_minutes": 90}, True),
        (eur(), eur(kyc_deposit_threshold=2000_00), False),
        (eur(kyc_deposit_threshold=2000_00), eur(), True),
        # auto-approval: empty means nothing is approved automatically, the strictest
        (eur(), eur(auto_approve_below=50_00), True),
        (eur(auto_approve_below=50_00), eur(auto_approve_below=100_00), True),
        (eur(auto_approve_below=50_00), eur(auto_approve_below=20_00), False),
        (eur(auto_approve_below=50_00), eur(), False),
    ],
)
def test_each_difference_is_classified(before, after, loosens):
    (change,) = differences(before, after)
    assert change.loosens is loosens


def test_the_same_policy_has_no_differences_and_an_empty_currency_row_is_no_limit():
    assert differences(eur(), BASE) == []
    assert differences(eur(max_amount=5), eur(max_amount=5)) == []


def test_a_change_applied_gives_the_policy_it_was_computed_against():
    before, after = (
        eur(daily_withdraw_limit=500_00, four_eyes_amount=10),
        {
            **BASE,
            "payout_retry_limit": 5,
            "currency_limits": [
                {"currency": "EUR", **dict.fromkeys(CURRENCY_CONTROLS), "daily_withdraw_limit": 900_00},
                {"currency": "USD", **dict.fromkeys(CURRENCY_CONTROLS), "min_amount": 1},
            ],
        },
    )
    changes = [FieldChange.from_dict(c.as_dict()) for c in differences(before, after)]
    assert differences(apply_changes(before, changes), after) == []


def test_every_control_the_policy_stores_has_a_direction():
    amounts = {f.name for f in CurrencyLimit._meta.concrete_fields} - {"id", "policy", "currency"}
    assert amounts == set(CURRENCY_CONTROLS)
    # reconciliation's alert thresholds are platform settings that operators do not edit
    not_controls = {"id", "tenant", "updated_at", "stuck_payout_seconds", "stuck_deposit_seconds"}
    assert {f.name for f in PaymentPolicy._meta.concrete_fields} - not_controls == set(POLICY_CONTROLS)
