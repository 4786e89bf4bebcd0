"""The wallet's part of the game wallet: the lock every game call takes, and what a bet must pass.

The games app runs each bet, win and rollback (games/services.py) as ONE transaction that
calls, in this order:
1. `lock_wallet_for_play`: the player's wallet in the session's currency, FOR UPDATE, with
   the player's row share-locked in the same statement (as payments lock it: an exclusion,
   which locks that row, and a bet are never decided on each other's blind side), and what
   a bet is checked against (the tenant's status, the exclusion in force, the player's loss
   limits) read in that same statement;
2. its own rows (round, earlier game transactions), read under that lock (`then`): every
   writer of a round or a game transaction holds its wallet's lock, and the idle-round
   sweeper takes wallet and round with SKIP LOCKED, so nothing else waits on them. The read
   is sent with the lock in one round trip (psycopg's pipeline mode): PostgreSQL runs it
   once the lock statement is done, with a snapshot of its own taken then, so it sees what
   a twin committed while this call waited for the lock;
3. `ensure_may_play` and `ensure_may_stake` (bets only), then the money event through
   `wallet.ledger.post_money_event` (bet_placed, win_paid, bet_rolled_back: the player's
   available balance against the tenant's game house account), flushed with the game rows.

No game call locks two wallets, and nothing that locks a wallet waits for a game row, so
the lock order of docs/architecture.md holds. The loss limit is checked here, after the
lock: two bets of one wallet are serialized on it and cannot both pass a limit that only
one fits in.
"""

from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connection

from core import sql
from core.money import format_amount
from players.errors import PlayerExcluded
from players.models import LimitKind, Player, PlayerLimit
from players.register import exclusion_register, listed_sql
from tenants.errors import TenantSuspended
from tenants.models import Tenant
from wallet import protection
from wallet.errors import InsufficientFunds
from wallet.models import Wallet


@dataclass(frozen=True)
class PlayState:
    """The locked wallet (None: the player has no wallet in the currency yet) and what bets are checked against."""

    player_id: int
    currency: str
    wallet: Wallet | None
    tenant_active: bool
    exclusion_kind: str | None
    exclusion_ends_at: datetime | None
    listed: bool | None  # in the exclusion register; None: the configured register is asked
    loss_limits: tuple[PlayerLimit, ...]
    restricted: bool = False  # a receivable open in any currency (a chargeback): no play (section 16)
    then: tuple | None = None  # the row of the caller's read after the lock

    @property
    def available(self) -> int:
        return self.wallet.balance_available if self.wallet else 0


_STATE_COLUMNS = """t.status, ex.kind, ex.ends_at, {listed},
  (SELECT json_agg(json_build_array(l.period, l.amount, l.pending, l.pending_amount, l.pending_effective_at))
     FROM players_playerlimit l WHERE l.player_id = p.id AND l.currency = %(currency)s AND l.kind = 'loss'),
  EXISTS (SELECT 1 FROM wallet_wallet r WHERE r.player_id = p.id AND r.balance_receivable > 0)"""
_STATE_JOINS = """JOIN auth_user u ON u.id = p.user_id JOIN tenants_tenant t ON t.id = p.tenant_id
LEFT JOIN LATERAL (
  SELECT e.kind, e.ends_at FROM players_exclusion e
  WHERE e.player_id = p.id AND e.lifted_at IS NULL AND e.starts_at <= %(now)s
    AND (e.ends_at IS NULL OR e.ends_at > %(now)s)
  ORDER BY e.ends_at DESC NULLS FIRST, e.starts_at DESC LIMIT 1) ex ON TRUE"""


@cache
def _queries() -> tuple[str, str]:
    """(with the wallet, without one): the configured register decides the listing column once per process."""
    columns = _STATE_COLUMNS.format(listed=listed_sql("p", "u") or "NULL::boolean")
    with_wallet = (
        f"SELECT {sql.select_list(Wallet, 'w')}, {columns} FROM wallet_wallet w "
        f"JOIN wallet_player p ON p.id = w.player_id {_STATE_JOINS} "
        "WHERE w.player_id = %(player)s AND w.currency = %(currency)s FOR UPDATE OF w FOR SHARE OF p"
    )
    without = f"SELECT {columns} FROM wallet_player p {_STATE_JOINS} WHERE p.id = %(player)s FOR SHARE OF p"
    return with_wallet, without


def lock_wallet_for_play(
    player_id: int, currency: str, *, now: datetime, then: tuple[str, object] | None = None
) -> PlayState:
    """Lock the player's wallet in `currency` and read the player's state: one statement (two without a wallet).

    `then` (sql, params): the caller's read, run right after the lock in the same round trip;
    its first row comes back as `PlayState.then`.
    """
    with_wallet, without = _queries()
    params = {"player": player_id, "currency": currency, "now": now}
    with connection.cursor() as cursor, connection.cursor() as reader:
        with _pipeline() if then else nullcontext():
            cursor.execute(with_wallet, params)
            if then:
                reader.execute(*then)
            row = cursor.fetchone()
            after = reader.fetchone() if then else None
        wallet = None
        if row is not None:
            wallet, row = sql.instance_from(Wallet, row), row[sql.width(Wallet) :]
        else:
            cursor.execute(without, params)
            row = cursor.fetchone()
    status, kind, ends_at, listed, limits, restricted = row
    return PlayState(
        player_id=player_id,
        currency=currency,
        wallet=wallet,
        tenant_active=status == Tenant.Status.ACTIVE,
        exclusion_kind=kind,
        exclusion_ends_at=ends_at,
        listed=listed,
        loss_limits=tuple(_limit(player_id, currency, values) for values in limits or ()),
        restricted=restricted,
        then=after,
    )


@contextmanager
def _pipeline():
    """psycopg's pipeline mode on Django's connection: statements sent together, answered together.

    Leaving the pipeline can raise psycopg's own error (a connection terminated while its answers
    were awaited: "cannot exit pipeline mode while busy"), outside Django's cursor wrappers; it is
    raised as Django's error, like any other, so the connection is discarded and the caller gets 503
    SERVICE_UNAVAILABLE (retry safely), not a 500."""
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


def _limit(player_id: int, currency: str, values: list) -> PlayerLimit:
    period, amount, pending, pending_amount, effective_at = values
    return PlayerLimit(
        player_id=player_id,
        currency=currency,
        kind=LimitKind.LOSS,
        period=period,
        amount=amount,
        pending=pending,
        pending_amount=pending_amount,
        pending_effective_at=datetime.fromisoformat(effective_at) if effective_at else None,
    )


def ensure_may_play(state: PlayState) -> None:
    """A bet (or a session start) needs an active casino, a player without an exclusion in force, and no
    receivable open after a chargeback (PLAYER_ACCOUNT_RESTRICTED: the partial index wallet_receivable_open
    makes that a read of the player's owing wallets, none for almost every player)."""
    if not state.tenant_active:
        raise TenantSuspended("This casino is suspended: no bets can be placed.")
    kind, ends_at = state.exclusion_kind, state.exclusion_ends_at
    if kind is None and _listed(state):
        kind = "register"
    if kind is not None:
        ends = ends_at.isoformat() if ends_at else None
        raise PlayerExcluded(
            f"Excluded ({kind}) until {ends or 'further notice'}: no deposits or play.", kind=kind, ends_at=ends
        )
    if state.restricted:
        protection.ensure_not_restricted(state.player_id)  # raises, with what is owed per currency


def _listed(state: PlayState) -> bool:
    if state.listed is not None:
        return state.listed
    player = Player.objects.select_related("user").get(pk=state.player_id)
    return exclusion_register().is_excluded(player)


def ensure_may_stake(state: PlayState, amount: int, *, now: datetime) -> None:
    """A bet spends available money only, and stays within the player's loss limits (net loss in the window)."""
    available = state.available
    if amount > available:
        currency = state.currency
        raise InsufficientFunds(
            f"Available balance is {format_amount(available, currency)} {currency}; "
            f"{format_amount(amount, currency)} {currency} was bet.",
            available=format_amount(available, currency),
            requested=format_amount(amount, currency),
            currency=currency,
        )
    if state.loss_limits:
        protection.check_player_limits(state.wallet, LimitKind.LOSS, amount, now, limits=list(state.loss_limits))
