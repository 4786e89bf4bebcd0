"""Posting money events to the ledger and the wallet cache together.

BALANCE_EFFECTS is the design's balance table, and the only place that knows it:
each event moves `amount` by these signs on the player's available and held accounts,
with the tenant's PSP clearing account taking the other side where money enters or
leaves the casino, and the tenant's game house account (per currency) where it is
staked or won: the house account is bets - wins - rolled-back bets.

Two rules of section 16 add the player receivable (what the player owes the casino) as a
third account, so wallets never go below zero:
- SPILLS_TO_RECEIVABLE: a chargeback (also a second one) debits available as far as it goes; the rest becomes
  a receivable (the receivable account is debited instead).
- REPAYS_RECEIVABLE_FIRST: money coming (back) into available first repays an open
  receivable (the receivable account is credited instead, up to what is owed).
An entry then has two or three postings, still summing to zero.
"""

from core.unit_of_work import UnitOfWork
from wallet.models import Account, JournalEntry, LedgerEvent, Posting, Wallet

BALANCE_EFFECTS: dict[str, dict[str, int]] = {
    LedgerEvent.DEPOSIT_COMPLETED: {Account.PLAYER_AVAILABLE: +1, Account.PSP_CLEARING: -1},
    LedgerEvent.WITHDRAW_REQUESTED: {Account.PLAYER_AVAILABLE: -1, Account.PLAYER_HELD: +1},
    LedgerEvent.WITHDRAW_RELEASED: {Account.PLAYER_AVAILABLE: +1, Account.PLAYER_HELD: -1},
    LedgerEvent.WITHDRAW_PAID: {Account.PLAYER_HELD: -1, Account.PSP_CLEARING: +1},
    LedgerEvent.DEPOSIT_CHARGED_BACK: {Account.PLAYER_AVAILABLE: -1, Account.PSP_CLEARING: +1},
    LedgerEvent.CHARGEBACK_REVERSED: {Account.PLAYER_AVAILABLE: +1, Account.PSP_CLEARING: -1},
    LedgerEvent.DEPOSIT_CHARGED_BACK_AGAIN: {Account.PLAYER_AVAILABLE: -1, Account.PSP_CLEARING: +1},
    LedgerEvent.WITHDRAW_RETURNED: {Account.PLAYER_AVAILABLE: +1, Account.PSP_CLEARING: -1},
    LedgerEvent.BET_PLACED: {Account.PLAYER_AVAILABLE: -1, Account.GAME_HOUSE: +1},
    LedgerEvent.WIN_PAID: {Account.PLAYER_AVAILABLE: +1, Account.GAME_HOUSE: -1},
    LedgerEvent.BET_ROLLED_BACK: {Account.PLAYER_AVAILABLE: +1, Account.GAME_HOUSE: -1},
}
SPILLS_TO_RECEIVABLE = frozenset({LedgerEvent.DEPOSIT_CHARGED_BACK, LedgerEvent.DEPOSIT_CHARGED_BACK_AGAIN})
REPAYS_RECEIVABLE_FIRST = frozenset(
    {
        LedgerEvent.DEPOSIT_COMPLETED,
        LedgerEvent.WITHDRAW_RELEASED,
        LedgerEvent.CHARGEBACK_REVERSED,
        LedgerEvent.WITHDRAW_RETURNED,
    }
)
# Which column of the journal entry names the source, by the source's TX_TYPE.
_SOURCE_COLUMNS = {"deposit": "deposit_id", "withdrawal": "withdrawal_id", "game": "game_transaction_id"}

_PLAYER_ACCOUNTS = (Account.PLAYER_AVAILABLE, Account.PLAYER_HELD, Account.PLAYER_RECEIVABLE)


def money_legs(wallet: Wallet, event_type: str, amount: int) -> dict[str, int]:
    """The postings of `event_type` for `amount` on the (locked) wallet as it is now: {account: amount}."""
    legs = {account: sign * amount for account, sign in BALANCE_EFFECTS[event_type].items()}
    if event_type in SPILLS_TO_RECEIVABLE:
        covered = min(wallet.balance_available, amount)
        legs[Account.PLAYER_AVAILABLE] = -covered
        legs[Account.PLAYER_RECEIVABLE] = -(amount - covered)
    elif event_type in REPAYS_RECEIVABLE_FIRST and wallet.balance_receivable > 0:
        repaid = min(wallet.balance_receivable, amount)
        legs[Account.PLAYER_AVAILABLE] -= repaid
        legs[Account.PLAYER_RECEIVABLE] = repaid
    return {account: value for account, value in legs.items() if value}


def post_money_event(*, wallet: Wallet, event_type: str, source, uow: UnitOfWork) -> dict[str, int]:
    """Write the journal entry and postings for `source` and move the locked wallet; returns the legs.

    `source` is a deposit, a withdrawal or a game transaction (games.models.GameTransaction,
    by its TX_TYPE "game"): anything with `pk`, `amount` and `TX_TYPE`. The caller holds
    the wallet's row lock. A second call for the same event and
    source violates a unique constraint: money events happen at most once. A wallet
    going below zero violates its CHECK constraint; callers check funds first so
    players get INSUFFICIENT_FUNDS instead. The rows go out when the caller flushes `uow`.
    """
    column = _SOURCE_COLUMNS[source.TX_TYPE]
    entry = uow.add_step(
        f"INSERT INTO wallet_journalentry (tenant_id, currency, event_type, {column}, created_at) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING id",
        [wallet.tenant_id, wallet.currency, str(event_type), source.pk, uow.now],
        model=JournalEntry,
        step=f"journal entry {event_type}",
    )
    legs = money_legs(wallet, event_type, source.amount)
    uow.change_balance(
        wallet,
        available=legs.get(Account.PLAYER_AVAILABLE, 0),
        held=legs.get(Account.PLAYER_HELD, 0),
        receivable=-legs.get(Account.PLAYER_RECEIVABLE, 0),  # the wallet keeps what is owed, above zero
    )
    balance_after = {
        Account.PLAYER_AVAILABLE: wallet.balance_available,
        Account.PLAYER_HELD: wallet.balance_held,
        Account.PLAYER_RECEIVABLE: -wallet.balance_receivable,
    }
    rows, params = [], []
    for account, value in legs.items():
        rows.append("(%s::varchar, %s::bigint, %s::bigint, %s::bigint)")
        is_player = account in _PLAYER_ACCOUNTS
        params += [str(account), wallet.pk if is_player else None, value, balance_after.get(account)]
    uow.add_step(
        "INSERT INTO wallet_posting (entry_id, tenant_id, account, wallet_id, amount, balance_after) "
        f"SELECT {entry}.id, %s, leg.account, leg.wallet_id, leg.amount, leg.balance_after FROM {entry}, "
        f"(VALUES {', '.join(rows)}) AS leg(account, wallet_id, amount, balance_after)",
        [wallet.tenant_id, *params],
        model=Posting,
        step=f"postings of {event_type}",
    )
    return legs
