"""Tenant payment policy checks: per-transaction bounds and daily limits.

Daily usage is counted per player, per currency, per calendar day in the tenant's time
zone. The caller holds the wallet's row lock, and a wallet is exactly one player and
one currency, so two requests for the same player and currency are serialized and
cannot both pass a limit that only one of them fits in.
"""

from datetime import datetime

from django.db import connection
from django.utils import timezone

from core import days, sql
from core.errors import ValidationFailed
from core.money import format_amount
from tenants.models import CurrencyLimit, Tenant
from wallet.errors import TenantPaymentLimitExceeded
from wallet.models import Deposit, DepositState, Wallet, Withdrawal, WithdrawalState

# The design's counting table: which states use up the daily limit.
DEPOSIT_STATES_COUNTED = (
    DepositState.CREATED,
    DepositState.PENDING_PROVIDER,
    DepositState.COMPLETED,
    # Deposited all the same: a later dispute does not give the day's limit back.
    DepositState.CHARGED_BACK,
    DepositState.CHARGEBACK_REVERSED,
    DepositState.CHARGED_BACK_AGAIN,
)
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
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql.select_list(CurrencyLimit, 'cl')} FROM tenants_currencylimit cl "
            "JOIN tenants_paymentpolicy p ON p.id = cl.policy_id WHERE p.tenant_id = %s AND cl.currency = %s",
            [tenant.pk, currency],
        )
        row = cursor.fetchone()
    return None if row is None else sql.instance_from(CurrencyLimit, row)


def local_day_bounds(tenant: Tenant, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Start and end of today in the tenant's zone; DST days are 23 or 25 hours long."""
    zone = tenant.zone
    today = (now or timezone.now()).astimezone(zone).date()
    return days.start_of(today, zone), days.end_of(today, zone)


def used_today(wallet: Wallet, action: str, tenant: Tenant) -> int:
    """Sum of today's counted amounts; served by the (wallet, created_at) index."""
    start, end = local_day_bounds(tenant)
    model, states = (Deposit, DEPOSIT_STATES_COUNTED) if action == DEPOSIT else (Withdrawal, WITHDRAWAL_STATES_COUNTED)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM(amount), 0) FROM {model._meta.db_table} "
            "WHERE wallet_id = %s AND created_at >= %s AND created_at < %s AND state = ANY(%s)",
            [wallet.pk, start, end, [str(state) for state in states]],
        )
        return int(cursor.fetchone()[0])


def check_amount_bounds(limits: CurrencyLimit | None, amount: int, currency: str) -> None:
    if limits is None:
        return
    if limits.min_amount is not None and amount < limits.min_amount:
        minimum = format_amount(limits.min_amount, currency)
        raise ValidationFailed(
            f"The smallest amount allowed is {minimum} {currency}.",
            errors={"amount": [f"Must be at least {minimum} {currency}."]},
            min_amount=minimum,
            currency=currency,
        )
    if limits.max_amount is not None and amount > limits.max_amount:
        maximum = format_amount(limits.max_amount, currency)
        raise ValidationFailed(
            f"The largest amount allowed is {maximum} {currency}.",
            errors={"amount": [f"Must be at most {maximum} {currency}."]},
            max_amount=maximum,
            currency=currency,
        )


def check_daily_limit(
    *, tenant: Tenant, limits: CurrencyLimit | None, wallet: Wallet, action: str, amount: int
) -> None:
    """Raise TenantPaymentLimitExceeded if `amount` does not fit in today's remaining limit."""
    if limits is None:
        return
    limit = limits.daily_deposit_limit if action == DEPOSIT else limits.daily_withdraw_limit
    if limit is None:
        return
    used = used_today(wallet, action, tenant)
    if used + amount > limit:
        raise TenantPaymentLimitExceeded(
            action=action, limit=limit, used=used, requested=amount, currency=wallet.currency
        )
