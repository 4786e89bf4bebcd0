"""Reads of player money, always scoped to one player (and so to one tenant)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from players.models import Player
from tenants.selectors import payment_policy
from wallet.models import Account, Deposit, Posting, Wallet, Withdrawal, WithdrawalState

TX_MODELS = {"deposit": Deposit, "withdrawal": Withdrawal}


def player_wallets(player: Player) -> list[Wallet]:
    """Every wallet of the player, plus empty ones for the tenant's other currencies."""
    wallets = {w.currency: w for w in Wallet.objects.filter(player=player)}
    for currency in player.tenant.allowed_currencies:
        wallets.setdefault(currency, Wallet(player=player, tenant_id=player.tenant_id, currency=currency))
    return sorted(wallets.values(), key=lambda w: w.currency)


def cancel_allowed(player: Player, transactions) -> bool:
    """Whether the player may cancel those of `transactions` that await review (the casino's rule).

    The casino's policy is read only when one of them awaits review: a page of history
    without a cancelable withdrawal costs no query.
    """
    awaiting = any(tx.TX_TYPE == "withdrawal" and tx.state == WithdrawalState.REQUESTED for tx in transactions)
    return awaiting and payment_policy(player.tenant).player_cancel_allowed


def player_transaction(player: Player, tx_id, tx_type: str | None = None):
    """The player's deposit or withdrawal with this id, or None (also for other players' ids)."""
    if not isinstance(tx_id, uuid.UUID):
        try:
            tx_id = uuid.UUID(str(tx_id))
        except ValueError:
            return None
    for name, model in TX_MODELS.items():
        if tx_type in (None, name):
            found = model.objects.filter(player=player, pk=tx_id).first()
            if found is not None:
                return found
    return None


@dataclass(frozen=True)
class TransactionFilter:
    tx_type: str | None = None
    state: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def player_transactions(
    player: Player, filters: TransactionFilter, *, before: tuple[datetime, uuid.UUID] | None, limit: int
) -> list:
    """A page of the player's deposits and withdrawals, newest first, after a keyset cursor.

    (created_at, id) strictly decreasing makes pages stable while new rows arrive.
    Each table is read with its own LIMIT on the (player, created_at) index and the
    two are merged.
    """
    rows = []
    for name, model in TX_MODELS.items():
        if filters.tx_type not in (None, name):
            continue
        query = model.objects.filter(player=player)
        if filters.state:
            query = query.filter(state=filters.state)
        if filters.created_after:
            query = query.filter(created_at__gte=filters.created_after)
        if filters.created_before:
            query = query.filter(created_at__lt=filters.created_before)
        if before is not None:
            created_at, tx_id = before
            query = query.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=tx_id))
        rows.extend(query.order_by("-created_at", "-id")[:limit])
    rows.sort(key=lambda tx: (tx.created_at, tx.id), reverse=True)
    return rows[:limit]


def balance_after(tx) -> dict | None:
    """The wallet's balances right after the transaction's latest money event, or None."""
    postings = Posting.objects.filter(wallet_id=tx.wallet_id, **{f"entry__{tx.TX_TYPE}": tx}).order_by("-entry_id")
    latest = postings.values_list("entry_id", flat=True).first()
    if latest is None:
        return None
    after = dict(postings.filter(entry_id=latest).values_list("account", "balance_after"))
    # An event that touched only some player accounts leaves the others as they were before.
    for account in (Account.PLAYER_AVAILABLE, Account.PLAYER_HELD, Account.PLAYER_RECEIVABLE):
        if account not in after:
            previous = (
                Posting.objects.filter(wallet_id=tx.wallet_id, account=account, entry_id__lt=latest)
                .order_by("-entry_id")
                .values_list("balance_after", flat=True)
                .first()
            )
            after[account] = previous or 0
    return {
        "available": after[Account.PLAYER_AVAILABLE],
        "held": after[Account.PLAYER_HELD],
        "receivable": -after[Account.PLAYER_RECEIVABLE],  # the account sits below zero: what is owed
    }
