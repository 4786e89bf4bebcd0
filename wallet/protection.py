"""The player's protections, as the money path applies them: exclusions, KYC, the player's own limits,
and the account restriction while a chargeback's receivable is open.

Called by the deposit and withdrawal services inside their transaction, after the wallet's
lock: two deposits of one player and currency are serialized on it, so they cannot both
pass a limit only one fits in. Rolling windows end now: a day is the last 24 hours, a
week 7 days, a month 30 days (players.models.LimitPeriod).
"""

from datetime import datetime

from django.db import connection

from core.money import format_amount
from players.errors import KycRequired, PlayerExcluded, PlayerLimitExceeded
from players.exclusions import exclusion_in_force
from players.limits import in_force
from players.models import LimitKind, LimitPeriod, Player, PlayerLimit
from wallet.errors import PlayerAccountRestricted
from wallet.limits import DEPOSIT_STATES_COUNTED
from wallet.models import Account, DepositState, LedgerEvent, Wallet

# Net loss: what bets took from available, less what wins and rollbacks gave back.
PLAY_EVENTS = (LedgerEvent.BET_PLACED, LedgerEvent.WIN_PAID, LedgerEvent.BET_ROLLED_BACK)


def ensure_not_excluded(player: Player, now: datetime) -> None:
    exclusion = exclusion_in_force(player, now)
    if exclusion is not None:
        ends = exclusion.ends_at.isoformat() if exclusion.ends_at else None
        raise PlayerExcluded(
            f"Excluded ({exclusion.kind}) until {ends or 'further notice'}: no deposits or play.",
            kind=exclusion.kind,
            ends_at=ends,
        )


RECEIVABLE = "receivable"


def open_receivables(player_id: int) -> list[tuple[str, int]]:
    """What the player owes the casino, per currency: [(currency, minor units)], none when nothing is owed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT currency, balance_receivable FROM wallet_wallet "
            "WHERE player_id = %s AND balance_receivable > 0 ORDER BY currency",
            [player_id],
        )
        return [(currency, int(amount)) for currency, amount in cursor.fetchall()]


def ensure_not_restricted(player) -> None:
    """Refuse withdrawals and play while the player owes the casino (PLAYER_ACCOUNT_RESTRICTED, 403).

    A chargeback that the available balance could not cover leaves a receivable; it is repaid
    by the player's next deposits (wallet.ledger), which are therefore never refused for it.
    One indexed read of the player's wallets (the partial index wallet_receivable_open), in any
    currency: a receivable in one currency restricts the whole account. The game wallet's bets
    call this too.
    """
    owed = open_receivables(getattr(player, "pk", player))
    if owed:
        summary = ", ".join(f"{format_amount(amount, currency)} {currency}" for currency, amount in owed)
        raise PlayerAccountRestricted(
            f"The account is restricted until a chargeback is repaid ({summary} owed); deposits repay it.",
            reason=RECEIVABLE,
            receivables=[
                {"currency": currency, "amount": format_amount(amount, currency)} for currency, amount in owed
            ],
        )


def ensure_kyc_for_deposit(wallet: Wallet, threshold: int | None, verified: bool) -> None:
    """Once completed deposits in the currency reach the threshold, further deposits need a verified identity."""
    if threshold is None or verified:
        return
    deposited = completed_deposits(wallet)
    if deposited >= threshold:
        raise KycRequired(
            "Your deposits reached the amount from which we must verify your identity before you deposit more.",
            threshold=format_amount(threshold, wallet.currency),
            deposited=format_amount(deposited, wallet.currency),
            currency=wallet.currency,
        )


def completed_deposits(wallet: Wallet) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(amount), 0) FROM wallet_deposit WHERE wallet_id = %s AND state = ANY(%s)",
            [wallet.pk, [DepositState.COMPLETED, DepositState.CHARGEBACK_REVERSED]],
        )
        return cursor.fetchone()[0]


def deposits_in_window(wallet: Wallet, since: datetime) -> int:
    """Gross deposits counted against a player limit: completed and in flight, created since."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(amount), 0) FROM wallet_deposit "
            "WHERE wallet_id = %s AND created_at > %s AND state = ANY(%s)",
            [wallet.pk, since, list(DEPOSIT_STATES_COUNTED)],
        )
        return cursor.fetchone()[0]


def net_loss(wallet: Wallet, since: datetime) -> int:
    """Bets less wins less rolled-back bets on the wallet since `since`, from the ledger (may be negative)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(-SUM(p.amount), 0) FROM wallet_posting p JOIN wallet_journalentry e ON e.id = p.entry_id "
            "WHERE p.wallet_id = %s AND p.account = %s AND e.event_type = ANY(%s) AND e.created_at > %s",
            [wallet.pk, Account.PLAYER_AVAILABLE, [str(e) for e in PLAY_EVENTS], since],
        )
        return cursor.fetchone()[0]


def check_player_limits(
    wallet: Wallet, kind: str, amount: int, now: datetime, *, limits: list[PlayerLimit] | None = None
) -> None:
    """Refuse `amount` if it would take the wallet over any limit of `kind` the player has in force now.

    `limits`: the player's limits of `kind` in the wallet's currency, when the caller read them
    already (with the wallet's lock, as the game wallet's bets do); else they are read here.
    Usage is counted only where a limit is in force.
    """
    usage = deposits_in_window if kind == LimitKind.DEPOSIT else net_loss
    if limits is None:
        limits = PlayerLimit.objects.filter(player_id=wallet.player_id, currency=wallet.currency, kind=kind)
    for limit in limits:
        amount_in_force = in_force(limit, now)
        if amount_in_force is None:
            continue
        used = max(usage(wallet, now - LimitPeriod(limit.period).window), 0)
        if used + amount > amount_in_force:
            raise PlayerLimitExceeded(
                kind=kind,
                period=limit.period,
                limit=amount_in_force,
                used=used,
                requested=amount,
                currency=wallet.currency,
            )
