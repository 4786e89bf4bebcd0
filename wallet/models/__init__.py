from .audit import Actor, AuditEvent
from .console import FormToken
from .idempotency import IdempotencyRecord
from .ledger import Account, JournalEntry, LedgerEvent, Posting
from .players import Player, Wallet
from .transactions import (
    Deposit,
    DepositState,
    DepositTransition,
    Withdrawal,
    WithdrawalApproval,
    WithdrawalState,
    WithdrawalTransition,
)

__all__ = [
    "Account",
    "Actor",
    "AuditEvent",
    "Deposit",
    "FormToken",
    "IdempotencyRecord",
    "DepositState",
    "DepositTransition",
    "JournalEntry",
    "LedgerEvent",
    "Player",
    "Posting",
    "Wallet",
    "Withdrawal",
    "WithdrawalApproval",
    "WithdrawalState",
    "WithdrawalTransition",
]
