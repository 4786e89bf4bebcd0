"""Reads of play for operators: GGR per day and currency, a player's recent rounds, play since a moment.

GGR (gross gaming revenue) = bets − wins − rolled-back bets, over applied game
transactions only (refused, canceled and no-effect calls moved no money). A day is a
calendar day in the zone the caller names (the casino's, as the console shows times;
UTC for platform staff). The report is one GROUP BY over a range of the (tenant,
created_at) index.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from django.db import connections

from core import days
from core.replica import read_alias
from games.models import GameRound, GameTransaction, TransactionKind, TransactionStatus


@dataclass(frozen=True)
class GgrDay:
    day: date
    currency: str
    bets: int
    wins: int
    rolled_back: int
    bet_count: int
    win_count: int
    rollback_count: int

    @property
    def ggr(self) -> int:
        return self.bets - self.wins - self.rolled_back


_GGR_SQL = f"""
SELECT (t.created_at AT TIME ZONE %(zone)s)::date AS day, t.currency,
       COALESCE(SUM(t.amount) FILTER (WHERE t.kind = '{TransactionKind.BET}'), 0),
       COALESCE(SUM(t.amount) FILTER (WHERE t.kind = '{TransactionKind.WIN}'), 0),
       COALESCE(SUM(t.amount) FILTER (WHERE t.kind = '{TransactionKind.ROLLBACK}'), 0),
       COUNT(*) FILTER (WHERE t.kind = '{TransactionKind.BET}'),
       COUNT(*) FILTER (WHERE t.kind = '{TransactionKind.WIN}'),
       COUNT(*) FILTER (WHERE t.kind = '{TransactionKind.ROLLBACK}')
  FROM {GameTransaction._meta.db_table} t
 WHERE t.created_at >= %(start)s AND t.created_at < %(end)s
   AND t.status = '{TransactionStatus.APPLIED}' {{tenant}}
 GROUP BY 1, 2
 ORDER BY 1, 2
"""


def ggr_by_day(tenant_id: int | None, zone: tzinfo, day_from: date, day_to: date) -> list[GgrDay]:
    """GGR of each day from `day_from` to `day_to` (both included) with play, per currency.

    `tenant_id` None: every tenant's play (platform staff), summed per day and currency.
    """
    # No day after the last date: its range runs to the end of time.
    start, end = days.start_of(day_from, zone), days.end_of(day_to, zone) or datetime.max.replace(tzinfo=UTC)
    sql = _GGR_SQL.replace("{tenant}", "AND t.tenant_id = %(tenant)s" if tenant_id is not None else "")
    params = {"zone": str(zone), "start": start, "end": end, "tenant": tenant_id}
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(sql, params)
        return [GgrDay(*row) for row in cursor.fetchall()]


def recent_rounds(player, *, limit: int = 20):
    """The player's latest rounds (by the (player, opened_at) index), newest first."""
    rounds = GameRound.objects.using(read_alias()).filter(player=player).select_related("game", "account")
    return list(rounds.order_by("-opened_at")[:limit])


@dataclass
class Play:
    """Applied play of one currency since a moment."""

    currency: str
    since: datetime
    bets: int = 0
    bet_count: int = 0
    wins: int = 0
    win_count: int = 0
    rolled_back: int = 0

    @property
    def net_bets(self) -> int:
        """Bets that stayed bets: what the player really staked."""
        return self.bets - self.rolled_back


_PLAY_SQL = f"""
SELECT COALESCE(SUM(amount) FILTER (WHERE kind = '{TransactionKind.BET}'), 0),
       COUNT(*) FILTER (WHERE kind = '{TransactionKind.BET}'),
       COALESCE(SUM(amount) FILTER (WHERE kind = '{TransactionKind.WIN}'), 0),
       COUNT(*) FILTER (WHERE kind = '{TransactionKind.WIN}'),
       COALESCE(SUM(amount) FILTER (WHERE kind = '{TransactionKind.ROLLBACK}'), 0)
  FROM {GameTransaction._meta.db_table}
 WHERE tenant_id = %(tenant)s AND created_at >= %(since)s
   AND player_id = %(player)s AND currency = %(currency)s AND status = '{TransactionStatus.APPLIED}'
"""


def play_since(player, currency: str, since: datetime) -> Play:
    """The player's applied bets, wins and rolled-back bets in `currency` from `since` on."""
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(
            _PLAY_SQL, {"tenant": player.tenant_id, "since": since, "player": player.pk, "currency": currency}
        )
        bets, bet_count, wins, win_count, rolled_back = cursor.fetchone()
    return Play(currency, since, bets, bet_count, wins, win_count, rolled_back)
