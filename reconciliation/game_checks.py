"""The game wallet's invariant checks (ARCHITECTURE 15), each one set-based statement.

- game_transaction_ledger_event_count: an applied game transaction has exactly its one
  money event (bet_placed, win_paid, bet_rolled_back by kind); a transaction that moved
  no money (no_effect, refused, canceled) has none; a game event naming no transaction.
- game_round_totals_mismatch: a round's bet, win and rolled-back totals equal the sums
  of its applied transactions.
- game_round_idle_open: a round still open past its tenant's idle time
  (game_round_idle_minutes) plus a grace period: the sweeper is not closing rounds.

Registered in reconciliation.checks.CHECKS; they read through the run's snapshot like
the others (checks.rows).
"""

from datetime import timedelta

from games.models import GameRound, GameTransaction, TransactionKind, TransactionStatus
from reconciliation.checks import Found, Scope, money, rows
from reconciliation.models import FindingType, Severity
from tenants.models import PaymentPolicy
from wallet.models import LedgerEvent

EVENT_OF_KIND = {
    TransactionKind.BET: LedgerEvent.BET_PLACED,
    TransactionKind.WIN: LedgerEvent.WIN_PAID,
    TransactionKind.ROLLBACK: LedgerEvent.BET_ROLLED_BACK,
}
GAME_EVENTS = tuple(EVENT_OF_KIND.values())
SEVERITY = {
    FindingType.GAME_TRANSACTION_EVENT_COUNT: Severity.CRITICAL,
    FindingType.GAME_ROUND_TOTALS_MISMATCH: Severity.HIGH,
    FindingType.GAME_ROUND_IDLE_OPEN: Severity.MEDIUM,
}
# The sweeper runs every minute or so: a round this much past its idle time is late.
IDLE_GRACE = timedelta(minutes=10)

_TX = GameTransaction._meta.db_table
_ROUND = GameRound._meta.db_table
_EXPECTED = " ".join(f"WHEN '{kind}' THEN '{event}'" for kind, event in EVENT_OF_KIND.items())


def game_transaction_ledger_events(scope: Scope) -> list[Found]:
    sql = f"""
        SELECT t.id::text, t.tenant_id, t.kind, t.status, t.amount, t.currency,
               COUNT(e.id) FILTER (WHERE e.event_type = (CASE t.kind {_EXPECTED} END)),
               COUNT(e.id)
        FROM {_TX} t LEFT JOIN wallet_journalentry e ON e.game_transaction_id = t.id
        WHERE true{scope.only("t")}
        GROUP BY t.id
        HAVING (t.status = '{TransactionStatus.APPLIED}'
                AND (COUNT(e.id) <> 1
                     OR COUNT(e.id) FILTER (WHERE e.event_type = (CASE t.kind {_EXPECTED} END)) <> 1))
            OR (t.status <> '{TransactionStatus.APPLIED}' AND COUNT(e.id) > 0)
        UNION ALL
        SELECT e.game_transaction_id::text, e.tenant_id, NULL, NULL, NULL, e.currency, 0, COUNT(*)
        FROM wallet_journalentry e
        WHERE e.game_transaction_id IS NOT NULL{scope.only("e")}
          AND NOT EXISTS (SELECT 1 FROM {_TX} t WHERE t.id = e.game_transaction_id)
        GROUP BY e.game_transaction_id, e.tenant_id, e.currency
    """
    found = []
    for pk, tenant_id, kind, status, amount, currency, right, events in rows(sql, scope.params):
        applied = status == TransactionStatus.APPLIED
        found.append(
            Found(
                type=FindingType.GAME_TRANSACTION_EVENT_COUNT,
                tenant_id=tenant_id,
                object_type="gametransaction",
                object_id=pk,
                expected={"events": 1 if applied else 0, "event_type": EVENT_OF_KIND.get(kind) if applied else None},
                actual={"events": events, "of_the_right_type": right},
                detail={
                    "kind": kind,
                    "status": status,
                    "amount": money(amount, currency),
                    "unknown_transaction": kind is None,
                },
            )
        )
    return found


def game_round_totals(scope: Scope) -> list[Found]:
    sql = f"""
        SELECT r.id::text, r.tenant_id, r.round_id, r.currency, r.bet_total, r.win_total, r.rolled_back_total,
               COALESCE(s.bets, 0)::bigint, COALESCE(s.wins, 0)::bigint, COALESCE(s.rolled_back, 0)::bigint
        FROM {_ROUND} r LEFT JOIN (
            SELECT round_id,
                   SUM(amount) FILTER (WHERE kind = '{TransactionKind.BET}') AS bets,
                   SUM(amount) FILTER (WHERE kind = '{TransactionKind.WIN}') AS wins,
                   SUM(amount) FILTER (WHERE kind = '{TransactionKind.ROLLBACK}') AS rolled_back
            FROM {_TX} t
            WHERE status = '{TransactionStatus.APPLIED}' AND round_id IS NOT NULL{scope.only("t")}
            GROUP BY round_id
        ) s ON s.round_id = r.id
        WHERE (r.bet_total, r.win_total, r.rolled_back_total)
              IS DISTINCT FROM (COALESCE(s.bets, 0), COALESCE(s.wins, 0), COALESCE(s.rolled_back, 0))
              {scope.only("r")}
    """
    found = []
    for pk, tenant_id, round_ref, currency, bets, wins, back, t_bets, t_wins, t_back in rows(sql, scope.params):
        found.append(
            Found(
                type=FindingType.GAME_ROUND_TOTALS_MISMATCH,
                tenant_id=tenant_id,
                object_type="gameround",
                object_id=pk,
                expected={"bets": t_bets, "wins": t_wins, "rolled_back": t_back},
                actual={"bets": bets, "wins": wins, "rolled_back": back},
                detail={
                    "round_id": round_ref,
                    "bets": money(bets, currency),
                    "transactions_bets": money(t_bets, currency),
                    "wins": money(wins, currency),
                    "transactions_wins": money(t_wins, currency),
                },
            )
        )
    return found


def game_rounds_idle(scope: Scope) -> list[Found]:
    default = PaymentPolicy._meta.get_field("game_round_idle_minutes").default
    sql = f"""
        SELECT x.id::text, x.tenant_id, x.round_id, x.last_activity_at, x.idle_minutes
        FROM (
            SELECT r.id, r.tenant_id, r.round_id, r.last_activity_at,
                   COALESCE(pp.game_round_idle_minutes, {int(default)}) AS idle_minutes
            FROM {_ROUND} r LEFT JOIN tenants_paymentpolicy pp ON pp.tenant_id = r.tenant_id
            WHERE r.status = 'open'{scope.only("r")}
        ) x
        WHERE x.last_activity_at < %(as_of)s - make_interval(mins => x.idle_minutes) - %(grace)s
    """
    found = []
    for pk, tenant_id, round_ref, last, idle in rows(sql, {**scope.params, "grace": IDLE_GRACE}):
        found.append(
            Found(
                type=FindingType.GAME_ROUND_IDLE_OPEN,
                tenant_id=tenant_id,
                object_type="gameround",
                object_id=pk,
                expected={"max_idle_minutes": idle},
                actual={"idle_minutes": int((scope.as_of - last).total_seconds() // 60)},
                detail={"round_id": round_ref, "last_activity_at": last.isoformat()},
            )
        )
    return found


CHECKS = [game_transaction_ledger_events, game_round_totals, game_rounds_idle]
