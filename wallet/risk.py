"""Risk flags of a withdrawal request, computed in its transaction and stored with it (ARCHITECTURE 14).

A flag does not refuse anything: it tells finance what to look at, and it keeps a request
from being approved automatically. The figures are read in one statement.
"""

from datetime import datetime, timedelta

from django.db import connection

from wallet.models import Account, DepositState, LedgerEvent, PaymentMethod, Wallet

FIRST_WITHDRAWAL = "first_withdrawal"
VELOCITY = "velocity"
FAST_CASHOUT = "fast_cashout"
LARGE = "large"
KYC_CHANGED_RECENTLY = "kyc_changed_recently"
NEW_PAYMENT_METHOD = "new_payment_method"
SHARED_PAYMENT_METHOD = "shared_payment_method"
FLAGS = (
    FIRST_WITHDRAWAL,
    VELOCITY,
    FAST_CASHOUT,
    LARGE,
    KYC_CHANGED_RECENTLY,
    NEW_PAYMENT_METHOD,
    SHARED_PAYMENT_METHOD,
)

WINDOW = timedelta(hours=24)  # velocity and fast cash-out look back this far
KYC_RECENT = timedelta(hours=72)
# New payment method: the destination was first used (its first completed deposit) this recently.
NEW_METHOD = timedelta(hours=24)
# Fast cash-out: at least this share of the amount was deposited in the window, and less
# than that deposit was wagered since: money in and out with little play.
FAST_CASHOUT_SHARE = 0.5

_FIGURES = f"""
SELECT
  (SELECT count(*) FROM wallet_withdrawal WHERE player_id = %(player)s),
  (SELECT count(*) FROM wallet_withdrawal WHERE player_id = %(player)s AND created_at > %(since)s),
  (SELECT COALESCE(SUM(amount), 0) FROM wallet_deposit
     WHERE wallet_id = %(wallet)s AND state = '{DepositState.COMPLETED}' AND created_at > %(since)s),
  (SELECT COALESCE(-SUM(p.amount), 0) FROM wallet_posting p JOIN wallet_journalentry e ON e.id = p.entry_id
     WHERE p.wallet_id = %(wallet)s AND p.account = '{Account.PLAYER_AVAILABLE}'
       AND e.event_type = '{LedgerEvent.BET_PLACED}' AND e.created_at > %(since)s)
"""


def risk_flags(
    wallet: Wallet,
    amount: int,
    *,
    now: datetime,
    velocity_per_day: int,
    four_eyes_amount: int | None,
    kyc_updated_at: datetime | None,
    method: PaymentMethod | None = None,
) -> list[str]:
    """The flags of a new request of `amount` from `wallet` to `method` (counted before it is inserted).

    `new_payment_method`: the destination was first used less than 24 hours ago.
    `shared_payment_method`: another player of the casino has a method with the destination's
    fingerprint (the same card or account).
    """
    with connection.cursor() as cursor:
        cursor.execute(_FIGURES, {"player": wallet.player_id, "wallet": wallet.pk, "since": now - WINDOW})
        earlier, last_day, deposited, wagered = cursor.fetchone()
    flags = []
    if earlier == 0:
        flags.append(FIRST_WITHDRAWAL)
    if last_day + 1 > velocity_per_day:
        flags.append(VELOCITY)
    if deposited >= amount * FAST_CASHOUT_SHARE and wagered < deposited:
        flags.append(FAST_CASHOUT)
    if four_eyes_amount is not None and amount >= four_eyes_amount:
        flags.append(LARGE)
    if kyc_updated_at is not None and now - kyc_updated_at < KYC_RECENT:
        flags.append(KYC_CHANGED_RECENTLY)
    if method is not None and now - method.created_at < NEW_METHOD:
        flags.append(NEW_PAYMENT_METHOD)
    if method is not None and shared_fingerprint(method):
        flags.append(SHARED_PAYMENT_METHOD)
    return flags


def shared_fingerprint(method: PaymentMethod) -> bool:
    """Another player of the same casino has an instrument with this method's fingerprint."""
    if not method.fingerprint:
        return False
    return (
        PaymentMethod.objects.filter(tenant_id=method.tenant_id, fingerprint=method.fingerprint)
        .exclude(player_id=method.player_id)
        .exists()
    )
