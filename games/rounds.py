"""Closing rounds that went quiet: after the tenant's `game_round_idle_minutes` without a bet, win or
rollback, a round is closed and takes no more bets (wins and rollbacks still land on it).

Set-based, in batches. Each batch locks the rounds it closes together with their wallets,
FOR UPDATE ... SKIP LOCKED: a wallet in the middle of a game call is skipped (its round is
active anyway, or the next sweep closes it) and the sweeper never waits, so it cannot
deadlock with the calls, which lock the wallet and then only read rounds. Every writer of a
round holds its wallet's lock, so a call never sees a round half-closed. One audit event
per tenant and batch says how many rounds were closed.
"""

from django.db import connection, transaction
from django.utils import timezone

from core.actors import Actor
from core.audit import record_event
from core.unit_of_work import UnitOfWork
from games.models import RoundCloseReason, RoundStatus
from tenants.models import PaymentPolicy

DEFAULT_IDLE_MINUTES = PaymentPolicy._meta.get_field("game_round_idle_minutes").default
SWEEPER = Actor.system("game-round-sweeper")

_CLOSE = f"""
WITH due AS (
    SELECT r.id FROM games_gameround r
    JOIN wallet_wallet w ON w.id = r.wallet_id
    LEFT JOIN tenants_paymentpolicy pp ON pp.tenant_id = r.tenant_id
    WHERE r.status = '{RoundStatus.OPEN}'
      AND r.opened_at < %(now)s - make_interval(mins => COALESCE(pp.game_round_idle_minutes, %(default)s))
      AND r.last_activity_at < %(now)s - make_interval(mins => COALESCE(pp.game_round_idle_minutes, %(default)s))
    ORDER BY r.opened_at
    LIMIT %(batch)s
    FOR UPDATE OF r, w SKIP LOCKED
)
UPDATE games_gameround r SET status = '{RoundStatus.CLOSED}', closed_at = %(now)s,
       close_reason = '{RoundCloseReason.IDLE}'
FROM due WHERE r.id = due.id
RETURNING r.tenant_id, r.id
"""


def close_idle_rounds(*, now=None, batch: int = 1000) -> int:
    """Close every open round idle past its tenant's idle time; returns how many were closed."""
    closed = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(_CLOSE, {"now": now or timezone.now(), "default": DEFAULT_IDLE_MINUTES, "batch": batch})
                rows = cursor.fetchall()
            by_tenant: dict[int, list[str]] = {}
            for tenant_id, round_pk in rows:
                by_tenant.setdefault(tenant_id, []).append(str(round_pk))
            if by_tenant:
                uow = UnitOfWork()
                for tenant_id, rounds in by_tenant.items():
                    record_event(
                        tenant=tenant_id,
                        actor=SWEEPER,
                        action="game.rounds_closed_idle",
                        data={"count": len(rounds), "rounds": rounds},  # every round the batch closed
                        uow=uow,
                    )
                uow.flush()
        closed += len(rows)
        if len(rows) < batch:
            return closed
