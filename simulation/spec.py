"""What the simulated world is made of: tenants, currencies, limits, amounts. No Django here.

Amounts are planned in euro cents and converted per currency (`scale` is roughly how
many units of the currency buy one euro), so every tenant sees comparable traffic and
each currency's policy bites at comparable points.
"""

from dataclasses import dataclass, field

PLAYERS = 48
OPERATOR_NAMES = ("finance1", "finance2", "admin")  # two finance operators and an admin per tenant
PAYOUT_RETRY_LIMIT = 3
PAYOUT_COOLDOWN_SECONDS = 1

# Policy in euro cents, converted per currency.
MIN_EUR = 5_00
MAX_EUR = 2_000_00
DAILY_DEPOSIT_EUR = 15_000_00
DAILY_WITHDRAW_EUR = 5_000_00
FOUR_EYES_EUR = 400_00
# Player protection (ARCHITECTURE 13, 14): flag-free withdrawals of verified players below this
# are approved by the system; identity checks from this much deposited.
AUTO_APPROVE_EUR = 60_00
KYC_DEPOSIT_THRESHOLD_EUR = 2_500_00
# Players whose identity is not verified when the run starts (a finance operator verifies
# them along the way), and players who take a break (no deposits for a day; withdrawals go on).
UNVERIFIED_PLAYERS = frozenset(p for p in range(PLAYERS) if p % 12 == 7)
BREAK_PLAYERS = frozenset(p for p in range(PLAYERS) if p % 16 == 5)


@dataclass(frozen=True)
class CurrencySpec:
    code: str
    exponent: int
    scale: float  # units of this currency per euro

    def from_eur_cents(self, cents: int) -> int:
        """Euro cents to this currency's minor units (at least 1)."""
        return max(1, round(cents / 100 * self.scale * 10**self.exponent))

    def text(self, minor: int) -> str:
        if self.exponent == 0:
            return str(minor)
        whole, frac = divmod(minor, 10**self.exponent)
        return f"{whole}.{frac:0{self.exponent}d}"


@dataclass(frozen=True)
class TenantSpec:
    slug: str
    name: str
    time_zone: str
    currencies: tuple[CurrencySpec, ...] = field(default_factory=tuple)
    player_cancel_allowed: bool = True  # False: no reverse withdrawals (UK rules)
    limit_increase_cooldown_hours: int = 24  # 0: a player's raised limit applies at once

    def currency(self, code: str) -> CurrencySpec:
        return next(c for c in self.currencies if c.code == code)


TENANTS = (
    TenantSpec(
        "sim-alpha",
        "Sim Alpha Casino",
        "Europe/Malta",
        (CurrencySpec("EUR", 2, 1.0), CurrencySpec("USD", 2, 1.1)),
    ),
    TenantSpec(
        "sim-beta", "Sim Beta Bet", "Asia/Tokyo", (CurrencySpec("JPY", 0, 160.0),), limit_increase_cooldown_hours=0
    ),
    TenantSpec(
        "sim-gamma",
        "Sim Gamma Games",
        "Europe/Istanbul",
        (CurrencySpec("TRY", 2, 35.0), CurrencySpec("KWD", 3, 0.33)),
        player_cancel_allowed=False,
    ),
)


def tenant_of_player(player: int) -> int:
    return player % len(TENANTS)


def limits_for(currency: CurrencySpec) -> dict:
    """CurrencyLimit fields, in the currency's minor units."""
    return {
        "min_amount": currency.from_eur_cents(MIN_EUR),
        "max_amount": currency.from_eur_cents(MAX_EUR),
        "daily_deposit_limit": currency.from_eur_cents(DAILY_DEPOSIT_EUR),
        "daily_withdraw_limit": currency.from_eur_cents(DAILY_WITHDRAW_EUR),
        "four_eyes_amount": currency.from_eur_cents(FOUR_EYES_EUR),
        "auto_approve_below": currency.from_eur_cents(AUTO_APPROVE_EUR),
        "kyc_deposit_threshold": currency.from_eur_cents(KYC_DEPOSIT_THRESHOLD_EUR),
    }
