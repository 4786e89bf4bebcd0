from .audit import Actor, AuditEvent
from .ledger import Account, JournalEntry, LedgerEvent, Posting
from .players import Player, Wallet
from .transactions import (
    Deposit,
    DepositState,
    DepositTransition,
    Withdrawal,
    WithdrawalState,
    WithdrawalTransition,
)

__all__ = [
    "Account",
    "Actor",
    "AuditEvent",
    "Deposit",
    "DepositState",
    "DepositTransition",
    "JournalEntry",
    "LedgerEvent",
    "Player",
    "Posting",
    "Wallet",
    "Withdrawal",
    "WithdrawalState",
    "WithdrawalTransition",
]
