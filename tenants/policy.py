"""Which way each payment-policy control tightens, and the difference between two policies.

A change that only tightens applies at once; one that loosens any control waits for a
second admin (maker-checker, ARCHITECTURE section 12). This table is the one place
that knows the direction of every control; a test proves every policy field has one.
"""

import math
from dataclasses import dataclass

LOWER, HIGHER, ON, OFF = "lower", "higher", "on", "off"


@dataclass(frozen=True)
class Control:
    """`tighter`: the direction that tightens. `none_is`: what an empty value means for a threshold:
    "loosest" (no limit at all) or "tightest" (the rule never applies, e.g. no auto-approval)."""

    tighter: str
    none_is: str = "loosest"

    def rank(self, value) -> float:
        """A number on which higher means looser."""
        if self.tighter in (ON, OFF):
            return float(bool(value) != (self.tighter == ON))
        if value is None:
            return math.inf if self.none_is == "loosest" else -math.inf
        return float(value) if self.tighter == LOWER else -float(value)

    def loosens(self, before, after) -> bool:
        return self.rank(after) > self.rank(before)


# Controls of the whole policy, then those kept per currency (amounts in minor units).
POLICY_CONTROLS: dict[str, Control] = {
    "payout_retry_limit": Control(LOWER),
    "payout_cooldown_seconds": Control(HIGHER),
    "limit_increase_cooldown_hours": Control(HIGHER),
    "kyc_required_for_withdrawal": Control(ON),
    "player_cancel_allowed": Control(OFF),
    "velocity_withdrawals_per_day": Control(LOWER),  # fewer requests before a flag: more scrutiny
    "closed_loop": Control(ON),  # off is a loosening: maker-checker
    "game_round_idle_minutes": Control(LOWER),  # rounds close sooner: fewer late bets into an old round
}
CURRENCY_CONTROLS: dict[str, Control] = {
    "daily_deposit_limit": Control(LOWER),
    "daily_withdraw_limit": Control(LOWER),
    "min_amount": Control(HIGHER),
    "max_amount": Control(LOWER),
    "four_eyes_amount": Control(LOWER),
    "kyc_deposit_threshold": Control(LOWER),
    "auto_approve_below": Control(LOWER, none_is="tightest"),  # empty: nothing is approved automatically
}


@dataclass(frozen=True)
class FieldChange:
    field: str
    currency: str | None
    before: object
    after: object

    @property
    def control(self) -> Control:
        return (CURRENCY_CONTROLS if self.currency else POLICY_CONTROLS)[self.field]

    @property
    def loosens(self) -> bool:
        return self.control.loosens(self.before, self.after)

    def as_dict(self) -> dict:
        return {"field": self.field, "currency": self.currency, "before": self.before, "after": self.after}

    @classmethod
    def from_dict(cls, row: dict) -> "FieldChange":
        return cls(row["field"], row.get("currency"), row.get("before"), row.get("after"))


def differences(before: dict, after: dict) -> list[FieldChange]:
    """Every control whose value differs between two plain policies (see services.policy_as_dict).

    A currency missing from one side has no limits there (every value None).
    """
    changes = [
        FieldChange(name, None, before[name], after[name]) for name in POLICY_CONTROLS if before[name] != after[name]
    ]
    old = {row["currency"]: row for row in before["currency_limits"]}
    new = {row["currency"]: row for row in after["currency_limits"]}
    for currency in sorted(old.keys() | new.keys()):
        for name in CURRENCY_CONTROLS:
            was, will = old.get(currency, {}).get(name), new.get(currency, {}).get(name)
            if was != will:
                changes.append(FieldChange(name, currency, was, will))
    return changes


def apply_changes(policy: dict, changes: list[FieldChange]) -> dict:
    """`policy` (plain) with `changes` applied (a currency without a row gets one)."""
    result = {**policy, "currency_limits": [dict(row) for row in policy["currency_limits"]]}
    rows = {row["currency"]: row for row in result["currency_limits"]}
    for change in changes:
        if change.currency is None:
            result[change.field] = change.after
            continue
        row = rows.setdefault(change.currency, {"currency": change.currency, **dict.fromkeys(CURRENCY_CONTROLS)})
        row[change.field] = change.after
    result["currency_limits"] = [row for _currency, row in sorted(rows.items())]
    return result
