from .ledger import Account, JournalEntry, LedgerEvent, Posting
from .payouts import PayoutAttempt
from .transactions import (
    Deposit,
    DepositState,
    DepositTransition,
    Withdrawal,
    WithdrawalApproval,
    WithdrawalState,
    WithdrawalTransition,
)
from .wallets import Wallet

__all__ = [
    "Account",
    "Deposit",
    "DepositState",
    "DepositTransition",
    "JournalEntry",
    "LedgerEvent",
    "PayoutAttempt",
    "Posting",
    "Wallet",
    "Withdrawal",
    "WithdrawalApproval",
    "WithdrawalState",
    "WithdrawalTransition",
]
