"""Posting money events to the ledger and the wallet cache together.

BALANCE_EFFECTS is the design's balance table, and the only place that knows it:
each event moves `amount` by these signs on the player's available and held accounts,
with the tenant's PSP clearing account taking the other side where money enters or
leaves the casino, and the tenant's game house account (per currency) where it is
staked or won: the house account is bets - wins - rolled-back bets.
"""

from core.unit_of_work import UnitOfWork
from wallet.models import Account, JournalEntry, LedgerEvent, Posting, Wallet

BALANCE_EFFECTS: dict[str, dict[str, int]] = {
    LedgerEvent.DEPOSIT_COMPLETED: {Account.PLAYER_AVAILABLE: +1, Account.PSP_CLEARING: -1},
    LedgerEvent.WITHDRAW_REQUESTED: {Account.PLAYER_AVAILABLE: -1, Account.PLAYER_HELD: +1},
    LedgerEvent.WITHDRAW_RELEASED: {Account.PLAYER_AVAILABLE: +1, Account.PLAYER_HELD: -1},
    LedgerEvent.WITHDRAW_PAID: {Account.PLAYER_HELD: -1, Account.PSP_CLEARING: +1},
    LedgerEvent.BET_PLACED: {Account.PLAYER_AVAILABLE: -1, Account.GAME_HOUSE: +1},
    LedgerEvent.WIN_PAID: {Account.PLAYER_AVAILABLE: +1, Account.GAME_HOUSE: -1},
    LedgerEvent.BET_ROLLED_BACK: {Account.PLAYER_AVAILABLE: +1, Account.GAME_HOUSE: -1},
}
# Which column of the journal entry names the source, by the source's TX_TYPE.
_SOURCE_COLUMNS = {"deposit": "deposit_id", "withdrawal": "withdrawal_id", "game": "game_transaction_id"}

_PLAYER_ACCOUNTS = (Account.PLAYER_AVAILABLE, Account.PLAYER_HELD)


def post_money_event(*, wallet: Wallet, event_type: str, source, uow: UnitOfWork) -> None:
    """Write the journal entry and postings for `source` and move the locked wallet.

    `source` is a deposit, a withdrawal or a game transaction (games.models.GameTransaction,
    by its TX_TYPE "game"): anything with `pk`, `amount` and `TX_TYPE`. The caller holds
    the wallet's row lock. A second call for the same event and
    source violates a unique constraint: money events happen at most once. A wallet
    going below zero violates its CHECK constraint; callers check funds first so
    players get INSUFFICIENT_FUNDS instead. The rows go out when the caller flushes `uow`.
    """
    amount = source.amount
    column = _SOURCE_COLUMNS[source.TX_TYPE]
    entry = uow.add_step(
        f"INSERT INTO wallet_journalentry (tenant_id, currency, event_type, {column}, created_at) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING id",
        [wallet.tenant_id, wallet.currency, str(event_type), source.pk, uow.now],
        model=JournalEntry,
        step=f"journal entry {event_type}",
    )
    effects = BALANCE_EFFECTS[event_type]
    uow.change_balance(
        wallet,
        available=effects.get(Account.PLAYER_AVAILABLE, 0) * amount,
        held=effects.get(Account.PLAYER_HELD, 0) * amount,
    )
    balance_after = {Account.PLAYER_AVAILABLE: wallet.balance_available, Account.PLAYER_HELD: wallet.balance_held}
    legs, params = [], []
    for account, sign in effects.items():
        legs.append("(%s::varchar, %s::bigint, %s::bigint, %s::bigint)")
        is_player = account in _PLAYER_ACCOUNTS
        params += [str(account), wallet.pk if is_player else None, sign * amount, balance_after.get(account)]
    uow.add_step(
        "INSERT INTO wallet_posting (entry_id, tenant_id, account, wallet_id, amount, balance_after) "
        f"SELECT {entry}.id, %s, leg.account, leg.wallet_id, leg.amount, leg.balance_after FROM {entry}, "
        f"(VALUES {', '.join(legs)}) AS leg(account, wallet_id, amount, balance_after)",
        [wallet.tenant_id, *params],
        model=Posting,
        step=f"postings of {event_type}",
    )
