"""Posting money events to the ledger and the wallet cache together.

BALANCE_EFFECTS is the design's balance table, and the only place that knows it:
each event moves `amount` by these signs on the player's available and held accounts,
with the tenant's PSP clearing account taking the other side where money enters or
leaves the casino.
"""

from wallet.models import Account, JournalEntry, LedgerEvent, Posting, Wallet

BALANCE_EFFECTS: dict[str, dict[str, int]] = {
    LedgerEvent.DEPOSIT_COMPLETED: {Account.PLAYER_AVAILABLE: +1, Account.PSP_CLEARING: -1},
    LedgerEvent.WITHDRAW_REQUESTED: {Account.PLAYER_AVAILABLE: -1, Account.PLAYER_HELD: +1},
    LedgerEvent.WITHDRAW_RELEASED: {Account.PLAYER_AVAILABLE: +1, Account.PLAYER_HELD: -1},
    LedgerEvent.WITHDRAW_PAID: {Account.PLAYER_HELD: -1, Account.PSP_CLEARING: +1},
}

_WALLET_FIELD = {Account.PLAYER_AVAILABLE: "balance_available", Account.PLAYER_HELD: "balance_held"}


def post_money_event(*, wallet: Wallet, event_type: str, source) -> JournalEntry:
    """Write the journal entry and postings for `source` and update the locked wallet.

    The caller holds the wallet's row lock. A second call for the same event and
    source violates a unique constraint: money events happen at most once. A wallet
    going below zero violates its CHECK constraint; callers check funds first so
    players get INSUFFICIENT_FUNDS instead.
    """
    amount = source.amount
    entry = JournalEntry.objects.create(
        tenant_id=wallet.tenant_id,
        currency=wallet.currency,
        event_type=event_type,
        deposit=source if source.TX_TYPE == "deposit" else None,
        withdrawal=source if source.TX_TYPE == "withdrawal" else None,
    )
    postings = []
    changed = []
    for account, sign in BALANCE_EFFECTS[event_type].items():
        is_player_account = account in _WALLET_FIELD
        postings.append(
            Posting(
                entry=entry,
                tenant_id=wallet.tenant_id,
                account=account,
                wallet=wallet if is_player_account else None,
                amount=sign * amount,
            )
        )
        if is_player_account:
            field = _WALLET_FIELD[account]
            setattr(wallet, field, getattr(wallet, field) + sign * amount)
            changed.append(field)
    Posting.objects.bulk_create(postings)
    wallet.save(update_fields=[*changed, "updated_at"])
    return entry
