from .ledger import Account, JournalEntry, LedgerEvent, Posting
from .methods import PaymentMethod, PaymentMethodKind
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
    "PaymentMethod",
    "PaymentMethodKind",
    "PayoutAttempt",
    "Posting",
    "Wallet",
    "Withdrawal",
    "WithdrawalApproval",
    "WithdrawalState",
    "WithdrawalTransition",
]
