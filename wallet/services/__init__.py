"""The only code that moves money or changes a transaction's state."""

from .deposits import complete_deposit, create_deposit, fail_deposit, mark_deposit_pending
from .withdrawals import (
    approve_withdrawal,
    cancel_withdrawal,
    mark_withdrawal_paid,
    reject_withdrawal,
    request_withdrawal,
)

__all__ = [
    "approve_withdrawal",
    "cancel_withdrawal",
    "complete_deposit",
    "create_deposit",
    "fail_deposit",
    "mark_deposit_pending",
    "mark_withdrawal_paid",
    "reject_withdrawal",
    "request_withdrawal",
]
