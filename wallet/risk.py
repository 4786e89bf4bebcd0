"""Risk flags of a withdrawal request, computed in its transaction and stored with it (ARCHITECTURE 14).

A flag does not refuse anything: it tells finance what to look at, and it keeps a request
from being approved automatically. The figures are read in one statement.
"""

from datetime import datetime, timedelta

from django.db import connection

from wallet.models import Account, DepositState, LedgerEvent, Wallet

FIRST_WITHDRAWAL = "first_withdrawal"
VELOCITY = "velocity"
FAST_CASHOUT = "fast_cashout"
LARGE = "large"
KYC_CHANGED_RECENTLY = "kyc_changed_recently"
FLAGS = (FIRST_WITHDRAWAL, VELOCITY, FAST_CASHOUT, LARGE, KYC_CHANGED_RECENTLY)

WINDOW = timedelta(hours=24)  # velocity and fast cash-out look back this far
KYC_RECENT = timedelta(hours=72)
# Fast cash-out: at least this share of the amount was deposited in the window, and less
# than that deposit was really wagered since it: bets placed from the first of those
# deposits on, less the bets rolled back (a rolled-back bet was never play). Money in and
# out with little play.
FAST_CASHOUT_SHARE = 0.5

_FIGURES = f"""
WITH recent AS (
  SELECT COALESCE(SUM(amount), 0) AS deposited, MIN(created_at) AS first_at FROM wallet_deposit
   WHERE wallet_id = %(wallet)s AND state = '{DepositState.COMPLETED}' AND created_at > %(since)s
)
SELECT
  (SELECT count(*) FROM wallet_withdrawal WHERE player_id = %(player)s),
  (SELECT count(*) FROM wallet_withdrawal WHERE player_id = %(player)s AND created_at > %(since)s),
  recent.deposited,
  (SELECT COALESCE(-SUM(p.amount), 0) FROM wallet_posting p JOIN wallet_journalentry e ON e.id = p.entry_id
     WHERE p.wallet_id = %(wallet)s AND p.account = '{Account.PLAYER_AVAILABLE}'
       AND e.event_type IN ('{LedgerEvent.BET_PLACED}', '{LedgerEvent.BET_ROLLED_BACK}')
       AND e.created_at >= recent.first_at)
FROM recent
"""


def risk_flags(
    wallet: Wallet,
    amount: int,
    *,
    now: datetime,
    velocity_per_day: int,
    four_eyes_amount: int | None,
    kyc_updated_at: datetime | None,
) -> list[str]:
    """The flags of a new request of `amount` from `wallet` (counted before it is inserted)."""
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
    return flags
