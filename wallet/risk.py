"""Risk flags of a withdrawal request, computed in its transaction and stored with it (ARCHITECTURE 14).

A flag does not refuse anything: it tells finance what to look at, and it keeps a request
from being approved automatically. The figures are read in one statement, whose cost does not
grow with the player's history: whether there is an earlier withdrawal at all, and the last
day's count only up to the velocity limit (one more changes no flag).
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
# than that deposit was really wagered since it: bets placed from the first of those
# deposits on, less the bets rolled back (a rolled-back bet was never play). Money in and
# out with little play.
FAST_CASHOUT_SHARE = 0.5

# The wagered sum is read only where the deposits of the window could make a fast cash-out
# (PostgreSQL runs a CASE branch's subquery only when taken): it scans the wallet's postings.
_FIGURES = f"""
WITH deposited AS (
  SELECT COALESCE(SUM(amount), 0) AS amount, MIN(created_at) AS first_at FROM wallet_deposit
  WHERE wallet_id = %(wallet)s AND state = '{DepositState.COMPLETED}' AND created_at > %(since)s)
SELECT
  EXISTS (SELECT 1 FROM wallet_withdrawal WHERE player_id = %(player)s),
  (SELECT count(*) FROM (SELECT 1 FROM wallet_withdrawal WHERE player_id = %(player)s AND created_at > %(since)s
     LIMIT %(velocity)s) AS recent),
  deposited.amount,
  CASE WHEN deposited.amount > 0 AND deposited.amount >= %(cashout_deposit)s THEN
    (SELECT COALESCE(-SUM(p.amount), 0) FROM wallet_posting p JOIN wallet_journalentry e ON e.id = p.entry_id
     WHERE p.wallet_id = %(wallet)s AND p.account = '{Account.PLAYER_AVAILABLE}'
       AND e.event_type IN ('{LedgerEvent.BET_PLACED}', '{LedgerEvent.BET_ROLLED_BACK}')
       AND e.created_at >= deposited.first_at)
  END
FROM deposited
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
        params = {
            "player": wallet.player_id,
            "wallet": wallet.pk,
            "since": now - WINDOW,
            "velocity": velocity_per_day,
            "cashout_deposit": amount * FAST_CASHOUT_SHARE,
        }
        cursor.execute(_FIGURES, params)
        any_earlier, last_day, deposited, wagered = cursor.fetchone()
    flags = []
    if not any_earlier:
        flags.append(FIRST_WITHDRAWAL)
    # last_day is counted up to velocity_per_day: at the cap, this request is one too many.
    if last_day + 1 > velocity_per_day:
        flags.append(VELOCITY)
    if deposited > 0 and deposited >= amount * FAST_CASHOUT_SHARE and wagered < deposited:
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
