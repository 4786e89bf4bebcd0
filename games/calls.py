"""A provider's call, from its verified body to its answer: parse, replay, run, keep refusals.

Order (docs/game-wallet.md):
1. The body is parsed and checked (400 VALIDATION_ERROR; nothing stored).
2. ONE indexed read finds the session by its token's digest and any game transaction this
   provider account stored under the call's `transaction_id`. A stored one answers before
   any lock: the same body gets the stored answer, byte for byte; another body is 409
   GAME_TRANSACTION_CONFLICT; a bet whose rollback came first gets its stored refusal
   (GAME_TRANSACTION_ROLLED_BACK). No session with that token at this account (another
   tenant's, another provider's, or none): 404 GAME_SESSION_UNKNOWN.
3. The service runs (games.services), one transaction under the wallet's lock. A twin
   that won the race is found under the lock and answered like step 2.
4. A refused bet (funds, limits, exclusion, a receivable open, suspension, expiry, a closed round) is stored
   with its refusal and audited, in its own transaction: a provider's retry of that
   transaction_id gets the same refusal, never a late success it would not know about.
   Refused wins and rollbacks are audited but not stored: money owed to the player lands
   when a retry can be accepted (the round's bet arrived, say).
"""

import hashlib
import json
import re

from django.db import IntegrityError, connection, transaction

from core.api_keys import digest_of
from core.audit import record_event, record_in_own_transaction
from core.errors import DomainError, ValidationFailed
from core.ids import uuid7
from core.money import CURRENCY_EXPONENTS, AmountError, parse_amount
from core.unit_of_work import UnitOfWork
from games import answers, services
from games.errors import GameSessionUnknown, GameTransactionConflict
from games.models import TransactionKind, TransactionStatus
from games.services import EARLIER_COLUMNS, Call, Earlier, Provider, Replay, Session, earlier_from
from players.errors import PlayerLimitExceeded
from players.models import Player

BALANCE = "balance"
KINDS = (BALANCE, TransactionKind.BET, TransactionKind.WIN, TransactionKind.ROLLBACK)
MAX_ID_LENGTH = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ZERO = re.compile(r"^0(?:\.0+)?$")
# Refusals a bet keeps: they come from the state of the player, the round or the casino.
KEPT_REFUSALS = {
    "GAME_SESSION_EXPIRED",
    "TENANT_SUSPENDED",
    "PLAYER_EXCLUDED",
    "PLAYER_ACCOUNT_RESTRICTED",
    "GAME_ROUND_CLOSED",
    "INSUFFICIENT_FUNDS",
    "PLAYER_LIMIT_EXCEEDED",
}
_SERVICES = {
    TransactionKind.BET: services.place_bet,
    TransactionKind.WIN: services.pay_win,
    TransactionKind.ROLLBACK: services.roll_back_bet,
}
# Unique constraints a racing twin can trip; the call is then run again and finds the twin's row.
_RACES = {"game_transaction_once_per_account", "game_bet_rolled_back_once", "game_round_once_per_account"}

_LOOKUP = (
    "SELECT s.id, s.player_id, s.tenant_id, s.game_id, s.currency, s.expires_at, "
    f"{EARLIER_COLUMNS} FROM (SELECT 1) one "
    "LEFT JOIN games_gamesession s ON s.token_digest = %s AND s.account_id = %s "
    "LEFT JOIN games_gametransaction t ON t.account_id = %s AND t.transaction_id = %s"
)


def handle(provider: Provider, kind: str, body: bytes) -> answers.Answer:
    """The answer to a verified call of `kind` from `provider`; DomainErrors are answered as problems."""
    call = parse(kind, body)
    session, earlier = lookup(provider, call)
    if earlier is not None:
        return answer_from(earlier, call)
    if session is None:
        raise GameSessionUnknown("No game session with this token at this game provider.")
    if call.currency is not None and call.currency != session.currency:
        raise ValidationFailed(
            f"The session plays in {session.currency}.", errors={"currency": [f"Must be {session.currency}."]}
        )
    if kind == BALANCE:
        return services.balance(session)
    for attempt in range(2):
        try:
            return _SERVICES[kind](provider, session, call)
        except Replay as replay:
            return answer_from(replay.earlier, call)
        except IntegrityError as error:
            if attempt or _constraint_of(error) not in _RACES:
                raise
        except DomainError as refusal:
            if kind == TransactionKind.BET and refusal.error_code in KEPT_REFUSALS:
                return keep_refusal(provider, session, call, refusal)
            _audit_refusal(provider, session, call, refusal)
            raise
    raise AssertionError("unreachable")


def lookup(provider: Provider, call: Call) -> tuple[Session | None, Earlier | None]:
    """The session and the stored transaction under the call's id: one indexed read, no lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            _LOOKUP,
            [digest_of(call.session_token), provider.account_id, provider.account_id, call.transaction_id],
        )
        row = cursor.fetchone()
    session = Session(*row[:6]) if row[0] is not None else None
    return session, earlier_from(row[6:])


def answer_from(earlier: Earlier, call: Call) -> answers.Answer:
    """The stored answer for the same call; a conflict for another; a late bet's stored refusal."""
    if earlier.request_digest == call.digest or (
        earlier.status == TransactionStatus.CANCELED and call.kind == TransactionKind.BET
    ):
        return answers.Answer(earlier.response_status, earlier.response_body, replayed=True)
    raise GameTransactionConflict(
        f"Transaction {call.transaction_id} was already sent with a different request; use a new transaction_id.",
        transaction_id=call.transaction_id,
    )


def keep_refusal(provider: Provider, session: Session, call: Call, refusal: DomainError) -> answers.Answer:
    """Store a refused bet with its answer and audit it, in one transaction; a twin's row wins."""
    body = answers.problem(refusal)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO games_gametransaction (id, account_id, tenant_id, player_id, wallet_id, session_id, "
                "round_id, kind, status, transaction_id, round_ref, reference_transaction_id, amount, currency, "
                "round_closed, error_code, balance_after, request_digest, response_status, response_body, created_at) "
                "SELECT %s, %s, %s, %s, w.id, %s, NULL, %s, %s, %s, %s, '', %s, %s, false, %s, NULL, %s, %s, %s, now() "
                "FROM (SELECT 1) one LEFT JOIN wallet_wallet w ON w.player_id = %s AND w.currency = %s "
                "ON CONFLICT (account_id, transaction_id) DO NOTHING RETURNING id",
                [
                    uuid7(),
                    provider.account_id,
                    session.tenant_id,
                    session.player_id,
                    session.id,
                    call.kind,
                    TransactionStatus.REFUSED,
                    call.transaction_id,
                    call.round_id or "",
                    call.amount,
                    session.currency,
                    refusal.error_code,
                    call.digest,
                    refusal.status,
                    body,
                    session.player_id,
                    session.currency,
                ],
            )
            stored = cursor.fetchone() is not None
        if stored:
            uow = UnitOfWork()
            record_event(uow=uow, **_refusal_event(provider, session, call, refusal))
            uow.flush()
    if not stored:
        _, earlier = lookup(provider, call)
        return answer_from(earlier, call)
    return answers.Answer(refusal.status, body)


def _audit_refusal(provider: Provider, session: Session, call: Call, refusal: DomainError) -> None:
    if isinstance(refusal, ValidationFailed):
        return  # the provider's mistake in a request, not a refusal of money
    record_in_own_transaction(**_refusal_event(provider, session, call, refusal))


def _refusal_event(provider: Provider, session: Session, call: Call, refusal: DomainError) -> dict:
    action = "limit.refused" if isinstance(refusal, PlayerLimitExceeded) else f"game.{call.kind}_refused"
    return {
        "tenant": session.tenant_id,
        "actor": answers.provider_actor(provider.slug),
        "action": action,
        "target": Player(pk=session.player_id),
        "reason": refusal.detail,
        "data": {
            "error_code": refusal.error_code,
            **refusal.problem_fields(),
            **services.call_data(provider, call, session.currency),
        },
    }


def _constraint_of(error: BaseException) -> str | None:
    while error is not None:
        diag = getattr(error, "diag", None)
        if diag is not None and getattr(diag, "constraint_name", None):
            return diag.constraint_name
        error = error.__cause__
    return None


# --- parsing -----------------------------------------------------------------------------------


def parse(kind: str, body: bytes) -> Call:
    """The call's fields, checked; VALIDATION_ERROR naming each bad field. The digest covers the whole body."""
    from core import strict_json

    try:
        document = strict_json.loads(body)
    except strict_json.UnsafeJSON as error:
        raise ValidationFailed(f"The request body could not be parsed: {error}", errors={}) from None
    if not isinstance(document, dict):
        raise ValidationFailed("The request body must be a JSON object.", errors={})
    errors: dict[str, list[str]] = {}
    fields = {"session_token": _text(document, "session_token", errors)}
    currency = document.get("currency")
    known = isinstance(currency, str) and currency in CURRENCY_EXPONENTS
    if (currency is not None or kind != BALANCE) and not known:
        errors["currency"] = ["An ISO 4217 code of a currency we know, e.g. EUR."]
        currency = None
    fields["currency"] = currency
    if kind != BALANCE:
        fields["transaction_id"] = _text(document, "transaction_id", errors)
        fields["round_id"] = _text(document, "round_id", errors, required=kind != TransactionKind.ROLLBACK)
        fields["amount"] = _amount(document.get("amount"), currency, kind, errors)
    if kind == TransactionKind.WIN:
        closed = document.get("round_closed", False)
        if not isinstance(closed, bool):
            errors["round_closed"] = ["true or false."]
        fields["round_closed"] = closed is True
    if kind == TransactionKind.ROLLBACK:
        fields["reference_transaction_id"] = _text(document, "reference_transaction_id", errors)
        if fields["reference_transaction_id"] and fields["reference_transaction_id"] == fields.get("transaction_id"):
            errors["reference_transaction_id"] = ["Must name another transaction: the bet to roll back."]
    if errors:
        raise ValidationFailed("The request is not valid.", errors=errors)
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(f"{kind}\n{canonical}".encode()).hexdigest()
    return Call(kind=kind, digest=digest, **fields)


def _text(document: dict, name: str, errors: dict, *, required: bool = True) -> str | None:
    value = document.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH or _CONTROL.search(value):
        errors[name] = [f"A string of 1 to {MAX_ID_LENGTH} characters without control characters."]
        return None
    return value


def _amount(value, currency: str | None, kind: str, errors: dict) -> int | None:
    if currency is None:
        return None
    zero = isinstance(value, str) and _ZERO.fullmatch(value) is not None
    if kind == TransactionKind.WIN and zero and len(value.partition(".")[2]) <= CURRENCY_EXPONENTS[currency]:
        return 0  # a win of nothing: it closes or settles a round and moves no money
    try:
        return parse_amount(value, currency)
    except AmountError as error:
        errors["amount"] = [str(error)]
        return None
