"""Tenant payment policy checks: per-transaction bounds and daily limits.

Daily usage is counted per player, per currency, per calendar day in the tenant's time
zone. The caller holds the wallet's row lock, and a wallet is exactly one player and
one currency, so two requests for the same player and currency are serialized and
cannot both pass a limit that only one of them fits in.
"""

from datetime import datetime, time, timedelta

from django.db.models import Sum
from django.utils import timezone

from tenants.models import CurrencyLimit, Tenant
from wallet.errors import PaymentLimitExceeded, ValidationFailed
from wallet.models import Deposit, DepositState, Wallet, Withdrawal, WithdrawalState
from wallet.money import format_amount

# The design's counting table: which states use up the daily limit.
DEPOSIT_STATES_COUNTED = (DepositState.CREATED, DepositState.PENDING_PROVIDER, DepositState.COMPLETED)
WITHDRAWAL_STATES_COUNTED = (
    WithdrawalState.REQUESTED,
    WithdrawalState.APPROVED,
    WithdrawalState.PAYOUT_PENDING,
    WithdrawalState.PAYOUT_FAILED,
    WithdrawalState.PAID,
)

DEPOSIT = "deposit"
WITHDRAW = "withdraw"


def currency_limits(tenant: Tenant, currency: str) -> CurrencyLimit | None:
    return CurrencyLimit.objects.filter(policy__tenant=tenant, currency=currency).first()


def local_day_bounds(tenant: Tenant, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Start and end of today in the tenant's zone; DST days are 23 or 25 hours long."""
    zone = tenant.zone
    today = (now or timezone.now()).astimezone(zone).date()
    start = datetime.combine(today, time.min, tzinfo=zone)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def used_today(wallet: Wallet, action: str, tenant: Tenant) -> int:
    start, end = local_day_bounds(tenant)
    if action == DEPOSIT:
        rows = Deposit.objects.filter(state__in=DEPOSIT_STATES_COUNTED)
    else:
        rows = Withdrawal.objects.filter(state__in=WITHDRAWAL_STATES_COUNTED)
    rows = rows.filter(wallet=wallet, created_at__gte=start, created_at__lt=end)
    return rows.aggregate(total=Sum("amount"))["total"] or 0


def check_amount_bounds(limits: CurrencyLimit | None, amount: int, currency: str) -> None:
    if limits is None:
        return
    if limits.min_amount is not None and amount < limits.min_amount:
        minimum = format_amount(limits.min_amount, currency)
        raise ValidationFailed(
            f"The smallest amount allowed is {minimum} {currency}.",
            errors={"amount": [f"Must be at least {minimum} {currency}."]},
        )
    if limits.max_amount is not None and amount > limits.max_amount:
        maximum = format_amount(limits.max_amount, currency)
        raise ValidationFailed(
            f"The largest amount allowed is {maximum} {currency}.",
            errors={"amount": [f"Must be at most {maximum} {currency}."]},
        )


def check_daily_limit(
    *, tenant: Tenant, limits: CurrencyLimit | None, wallet: Wallet, action: str, amount: int
) -> None:
    """Raise PaymentLimitExceeded if `amount` does not fit in today's remaining limit."""
    if limits is None:
        return
    limit = limits.daily_deposit_limit if action == DEPOSIT else limits.daily_withdraw_limit
    if limit is None:
        return
    used = used_today(wallet, action, tenant)
    if used + amount > limit:
        raise PaymentLimitExceeded(action=action, limit=limit, used=used, requested=amount, currency=wallet.currency)
