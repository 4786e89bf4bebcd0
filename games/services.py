"""Bets, wins and rollbacks: the game wallet's money, one transaction each (ARCHITECTURE section 15).

Each service:
1. locks the player's wallet in the session's currency and reads the player's state in the
   same statement (wallet.services.games.lock_wallet_for_play: the lock order is there);
2. reads, under that lock, its round and any earlier game transaction under the call's
   `transaction_id` (one statement): a twin that committed while this one waited for the
   lock is answered as a replay (`Replay`), so 50 copies of one bet debit once;
3. decides (refusals are DomainErrors; nothing is written), and queues the round, the game
   transaction with its answer, the money event (wallet.ledger.post_money_event: the player's
   available balance against the tenant's game house account) and, for unusual events, an
   audit event on one unit of work, sent as one statement.

Refused bets are stored by the caller (games.calls), in their own transaction. A bet spends
available money only and must fit the player's loss limits; wins and rollbacks land even
after the session expired, while the player is excluded or the casino is suspended (money
owed to a player always lands), with an audit event saying so.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connection, transaction
from django.utils import timezone

from core import sql
from core.audit import record_event
from core.errors import DomainError, ValidationFailed
from core.ids import uuid7
from core.money import format_amount
from core.unit_of_work import UnitOfWork
from games import answers
from games.errors import (
    GameRoundClosed,
    GameRoundSettled,
    GameRoundUnknown,
    GameSessionExpired,
    GameTransactionRolledBack,
)
from games.models import (
    GameRound,
    GameTransaction,
    RoundCloseReason,
    RoundStatus,
    TransactionKind,
    TransactionStatus,
)
from players.models import Player
from wallet.ledger import post_money_event
from wallet.models import LedgerEvent
from wallet.services.games import PlayState, ensure_may_play, ensure_may_stake, lock_wallet_for_play


@dataclass(frozen=True)
class Session:
    """The game session a call names, as the call's first read found it."""

    id: int
    player_id: int
    tenant_id: int
    game_id: int
    currency: str
    expires_at: datetime


@dataclass(frozen=True)
class Call:
    """A provider's call, checked (games.calls.parse): amounts in minor units."""

    kind: str
    session_token: str
    transaction_id: str | None = None
    round_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    round_closed: bool = False
    reference_transaction_id: str | None = None
    digest: str = ""


@dataclass(frozen=True)
class Earlier:
    """A game transaction already stored under the call's transaction_id."""

    id: object
    kind: str
    status: str
    request_digest: str
    response_status: int
    response_body: str


class Replay(Exception):  # noqa: N818 - not an error: the answer is the earlier one
    """A twin stored this transaction_id while this call waited for the wallet's lock."""

    def __init__(self, earlier: Earlier):
        super().__init__(earlier.id)
        self.earlier = earlier


@dataclass(frozen=True)
class Provider:
    account_id: int
    tenant_id: int
    slug: str


@dataclass(frozen=True)
class _Source:
    """The money event's source for the ledger: the game transaction about to be inserted."""

    pk: object
    amount: int
    TX_TYPE: str = GameTransaction.TX_TYPE


EARLIER_COLUMNS = "t.id, t.kind, t.status, t.request_digest, t.response_status, t.response_body"
_EARLIER_WIDTH = 6


def earlier_from(values) -> Earlier | None:
    return None if values[0] is None else Earlier(*values)


@cache
def _round_query() -> str:
    return (
        f"SELECT {sql.select_list(GameRound, 'r')}, {EARLIER_COLUMNS} FROM (SELECT 1) one "
        "LEFT JOIN games_gameround r ON r.account_id = %(account)s AND r.round_id = %(round)s "
        "LEFT JOIN games_gametransaction t ON t.account_id = %(account)s AND t.transaction_id = %(tx)s"
    )


@cache
def _rollback_query() -> str:
    return (
        f"SELECT {sql.select_list(GameRound, 'r')}, {EARLIER_COLUMNS}, "
        "b.id, b.kind, b.status, b.player_id, b.wallet_id, b.amount, b.currency, b.round_id, rb.id "
        "FROM (SELECT 1) one "
        "LEFT JOIN games_gametransaction t ON t.account_id = %(account)s AND t.transaction_id = %(tx)s "
        "LEFT JOIN games_gametransaction b ON b.account_id = %(account)s AND b.transaction_id = %(ref)s "
        "LEFT JOIN games_gameround r ON r.id = b.round_id "
        "LEFT JOIN games_gametransaction rb ON rb.account_id = %(account)s "
        "AND rb.reference_transaction_id = %(ref)s AND rb.kind = 'rollback' AND rb.status = 'applied'"
    )


def _locked(session: Session, now, query: str, params: dict) -> tuple[PlayState, GameRound | None, tuple]:
    """Lock the wallet and read the call's rows right after, in one round trip; a twin's row is a Replay."""
    state = lock_wallet_for_play(session.player_id, session.currency, now=now, then=(query, params))
    row, width = state.then, sql.width(GameRound)
    earlier = earlier_from(row[width : width + _EARLIER_WIDTH])
    if earlier is not None:
        raise Replay(earlier)
    return state, sql.instance_from(GameRound, row), row[width + _EARLIER_WIDTH :]


# --- bet ---------------------------------------------------------------------------------------


def place_bet(provider: Provider, session: Session, call: Call) -> answers.Answer:
    """Take `call.amount` from the player's available balance into the round. Refusals, in this order:
    GAME_SESSION_EXPIRED, TENANT_SUSPENDED, PLAYER_EXCLUDED, PLAYER_ACCOUNT_RESTRICTED (a receivable open after a
    chargeback), GAME_ROUND_CLOSED, INSUFFICIENT_FUNDS,
    PLAYER_LIMIT_EXCEEDED (loss); a bet whose rollback came first is answered from its stored refusal."""
    now = timezone.now()
    with transaction.atomic():
        state, found, _ = _locked(
            session,
            now,
            _round_query(),
            {"account": provider.account_id, "round": call.round_id, "tx": call.transaction_id},
        )
        if session.expires_at <= now:
            raise GameSessionExpired(
                "The game session expired; start a new one to bet.", expired_at=session.expires_at.isoformat()
            )
        ensure_may_play(state)
        if found is not None:
            _ensure_same_player(found, session)
            if found.status == RoundStatus.CLOSED:
                raise GameRoundClosed(
                    f"Round {call.round_id} is closed; it takes no more bets.", round_id=call.round_id
                )
        ensure_may_stake(state, call.amount, now=now)
        uow = UnitOfWork()
        tx_id = uuid7()
        wallet = state.wallet
        round_pk = _write_round(uow, found, provider, session, state, call, bet=call.amount)
        post_money_event(wallet=wallet, event_type=LedgerEvent.BET_PLACED, source=_Source(tx_id, call.amount), uow=uow)
        body = answers.ok(wallet.balance_available, session.currency, call.transaction_id, tx_id)
        _insert_transaction(uow, tx_id, provider, session, call, state, round_pk, TransactionStatus.APPLIED, 200, body)
        uow.flush()
    return answers.Answer(200, body)


def _ensure_same_player(found: GameRound, session: Session) -> None:
    if found.player_id != session.player_id or found.currency != session.currency:
        raise ValidationFailed(
            "This round_id belongs to another player's round.",
            errors={"round_id": ["Another player's round at this provider has this id."]},
        )


# --- win ---------------------------------------------------------------------------------------


def pay_win(provider: Provider, session: Session, call: Call) -> answers.Answer:
    """Credit `call.amount` (zero allowed: it moves nothing) for a round with a bet; close it if asked.

    GAME_ROUND_UNKNOWN when the round has no bet of this player. A win lands on a closed
    round, an expired session, an excluded player or a suspended casino, audited as such.
    """
    now = timezone.now()
    with transaction.atomic():
        state, found, _ = _locked(
            session,
            now,
            _round_query(),
            {"account": provider.account_id, "round": call.round_id, "tx": call.transaction_id},
        )
        wallet = state.wallet
        if found is None or wallet is None or found.wallet_id != wallet.pk or found.player_id != session.player_id:
            raise GameRoundUnknown(f"Round {call.round_id} has no bet of this player.", round_id=call.round_id)
        unusual = _late(session, state, now)
        if found.status == RoundStatus.CLOSED:
            unusual.append("round_closed")
        uow = UnitOfWork()
        tx_id = uuid7()
        _write_round(uow, found, provider, session, state, call, win=call.amount, close=call.round_closed)
        status = TransactionStatus.APPLIED if call.amount > 0 else TransactionStatus.NO_EFFECT
        if call.amount > 0:
            post_money_event(
                wallet=wallet, event_type=LedgerEvent.WIN_PAID, source=_Source(tx_id, call.amount), uow=uow
            )
        body = answers.ok(wallet.balance_available, session.currency, call.transaction_id, tx_id)
        _insert_transaction(uow, tx_id, provider, session, call, state, found.pk, status, 200, body)
        if unusual:
            _audit_unusual(uow, provider, session, call, "game.win_landed", unusual)
        uow.flush()
    return answers.Answer(200, body)


# --- rollback ----------------------------------------------------------------------------------


def roll_back_bet(provider: Provider, session: Session, call: Call) -> answers.Answer:
    """Give a bet's money back (once), unless its round already paid a win (GAME_ROUND_SETTLED).

    A bet not seen yet is recorded as canceled, so when it arrives it is refused
    (GAME_TRANSACTION_ROLLED_BACK). A bet that took nothing (refused) or was rolled back
    already is answered 200 and moves nothing.
    """
    ref = call.reference_transaction_id
    now = timezone.now()
    with transaction.atomic():
        state, found, bet = _locked(
            session, now, _rollback_query(), {"account": provider.account_id, "tx": call.transaction_id, "ref": ref}
        )
        bet_id, bet_kind, bet_status, bet_player, bet_wallet, bet_amount, bet_currency, _round, rolled_back = bet
        uow = UnitOfWork()
        tx_id = uuid7()
        wallet = state.wallet
        unusual = _late(session, state, now)
        if bet_id is None:
            _cancel_unseen_bet(uow, provider, session, call, state, rollback_id=tx_id)
            status, round_pk, unusual = TransactionStatus.NO_EFFECT, None, [*unusual, "before_bet"]
        else:
            if bet_kind != TransactionKind.BET:
                raise ValidationFailed(
                    f"{ref} is a {bet_kind}, not a bet; only bets are rolled back.",
                    errors={"reference_transaction_id": ["Must name a bet."]},
                )
            if bet_player != session.player_id or bet_currency != session.currency:
                raise ValidationFailed(
                    f"Bet {ref} is not this session's player's bet in {session.currency}.",
                    errors={"reference_transaction_id": ["A bet of another player or currency."]},
                )
            round_pk = found.pk if found else None
            if bet_status != TransactionStatus.APPLIED or rolled_back is not None:
                status = TransactionStatus.NO_EFFECT  # nothing was taken, or it was given back already
            else:
                if call.amount != bet_amount:
                    raise ValidationFailed(
                        f"Bet {ref} was {format_amount(bet_amount, session.currency)} {session.currency}; "
                        "a rollback gives back the whole bet.",
                        errors={"amount": [f"Must be {format_amount(bet_amount, session.currency)}."]},
                    )
                if found.settled:
                    raise GameRoundSettled(
                        f"Round {found.round_id} already paid a win; bet {ref} can no longer be rolled back.",
                        round_id=found.round_id,
                        reference_transaction_id=ref,
                    )
                if bet_wallet != wallet.pk:  # the same player and currency: the same wallet
                    raise ValidationFailed("The bet's wallet is not this session's.", errors={})
                status = TransactionStatus.APPLIED
                _write_round(uow, found, provider, session, state, call, rolled_back=bet_amount)
                post_money_event(
                    wallet=wallet, event_type=LedgerEvent.BET_ROLLED_BACK, source=_Source(tx_id, bet_amount), uow=uow
                )
        balance = wallet.balance_available if wallet else 0
        body = answers.ok(balance, session.currency, call.transaction_id, tx_id)
        _insert_transaction(uow, tx_id, provider, session, call, state, round_pk, status, 200, body)
        if found is not None and found.status == RoundStatus.CLOSED:
            unusual = [*unusual, "round_closed"]  # as a win on a closed round (docs/game-wallet.md)
        if unusual:
            _audit_unusual(uow, provider, session, call, "game.rollback_landed", unusual)
        uow.flush()
    return answers.Answer(200, body)


def _cancel_unseen_bet(uow, provider: Provider, session: Session, call: Call, state: PlayState, *, rollback_id):
    """Record the bet the rollback names, not seen yet, as canceled with the refusal it will get."""
    ref = call.reference_transaction_id
    refusal = GameTransactionRolledBack(
        f"Bet {ref} was rolled back (by {call.transaction_id}) before it arrived; it is not placed.",
        transaction_id=ref,
        rollback_transaction_id=call.transaction_id,
    )
    late_bet = Call(
        kind=TransactionKind.BET,
        session_token=call.session_token,
        transaction_id=ref,
        round_id=call.round_id,
        amount=call.amount,
        currency=call.currency,
    )
    _insert_transaction(
        uow,
        uuid7(),
        provider,
        session,
        late_bet,
        state,
        None,
        TransactionStatus.CANCELED,
        refusal.status,
        answers.problem(refusal),
        error_code=refusal.error_code,
    )


# --- balance -----------------------------------------------------------------------------------


def balance(session: Session) -> answers.Answer:
    """The player's available balance in the session's currency (a read: no lock, no row)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT balance_available FROM wallet_wallet WHERE player_id = %s AND currency = %s",
            [session.player_id, session.currency],
        )
        row = cursor.fetchone()
    return answers.Answer(200, answers.ok(row[0] if row else 0, session.currency, None, None))


# --- rows --------------------------------------------------------------------------------------


def _late(session: Session, state: PlayState, now: datetime) -> list[str]:
    """Why money that lands now would have been refused as a bet (for the audit trail)."""
    reasons = []
    if session.expires_at <= now:
        reasons.append("session_expired")
    try:
        ensure_may_play(state)
    except DomainError as refusal:
        reasons.append(refusal.error_code.lower())
    return reasons


def _write_round(
    uow, found, provider: Provider, session: Session, state: PlayState, call: Call, *, bet=0, win=0, rolled_back=0,
    close=False,
):  # fmt: skip
    """Insert the round (a first bet) or add to its totals; returns its id."""
    now = uow.now
    if found is None:
        pk = uuid7()
        uow.insert_values(
            GameRound,
            {
                "id": pk,
                "account_id": provider.account_id,
                "tenant_id": session.tenant_id,
                "player_id": session.player_id,
                "wallet_id": state.wallet.pk,
                "game_id": session.game_id,
                "round_id": call.round_id,
                "currency": session.currency,
                "status": RoundStatus.OPEN,
                "close_reason": "",
                "bet_total": bet,
                "win_total": 0,
                "rolled_back_total": 0,
                "bet_count": 1,
                "win_count": 0,
                "rollback_count": 0,
                "opened_at": now,
                "last_activity_at": now,
                "closed_at": None,
            },
        )
        return pk
    fields = ["last_activity_at"]
    found.last_activity_at = now
    if bet:
        found.bet_total, found.bet_count = found.bet_total + bet, found.bet_count + 1
        fields += ["bet_total", "bet_count"]
    if call.kind == TransactionKind.WIN:
        found.win_total, found.win_count = found.win_total + win, found.win_count + 1
        fields += ["win_total", "win_count"]
    if rolled_back:
        found.rolled_back_total, found.rollback_count = found.rolled_back_total + rolled_back, found.rollback_count + 1
        fields += ["rolled_back_total", "rollback_count"]
    if close and found.status == RoundStatus.OPEN:
        found.status, found.closed_at, found.close_reason = RoundStatus.CLOSED, now, RoundCloseReason.ROUND_CLOSED
        fields += ["status", "closed_at", "close_reason"]
    uow.update(found, tuple(fields))
    return found.pk


def _insert_transaction(
    uow, tx_id, provider: Provider, session: Session, call: Call, state: PlayState, round_pk, status, response_status,
    body, *, error_code="",
):  # fmt: skip
    moved = status == TransactionStatus.APPLIED
    uow.insert_values(
        GameTransaction,
        {
            "id": tx_id,
            "account_id": provider.account_id,
            "tenant_id": session.tenant_id,
            "player_id": session.player_id,
            "wallet_id": state.wallet.pk if state.wallet else None,
            "session_id": session.id,
            "round_id": round_pk,
            "kind": call.kind,
            "status": status,
            "transaction_id": call.transaction_id,
            "round_ref": call.round_id or "",
            "reference_transaction_id": call.reference_transaction_id or "",
            "amount": call.amount or 0,
            "currency": session.currency,
            "round_closed": call.round_closed,
            "error_code": error_code,
            "balance_after": state.wallet.balance_available if moved else None,
            "request_digest": call.digest,
            "response_status": response_status,
            "response_body": body,
            "created_at": uow.now,
        },
    )


def _audit_unusual(uow, provider: Provider, session: Session, call: Call, action: str, reasons: list[str]) -> None:
    record_event(
        tenant=session.tenant_id,
        actor=answers.provider_actor(provider.slug),
        action=action,
        target=Player(pk=session.player_id),
        reason=", ".join(reasons),
        data=call_data(provider, call, session.currency),
        uow=uow,
    )


def call_data(provider: Provider, call: Call, currency: str) -> dict:
    """What the audit trail keeps of a call."""
    data = {"provider": provider.slug, "kind": call.kind, "transaction_id": call.transaction_id}
    if call.round_id:
        data["round_id"] = call.round_id
    if call.amount is not None:
        data["amount"] = format_amount(call.amount, currency)
        data["currency"] = currency
    if call.reference_transaction_id:
        data["reference_transaction_id"] = call.reference_transaction_id
    return data
