"""The only code that moves money or changes a deposit's or withdrawal's state.

Every transition of both machines is here, the payout ones included (.payouts): the
payouts app talks to the PSP and records what it said through these functions. Each
is one database transaction that locks in the documented order (.common) and writes
through one unit of work.
"""

from .chargebacks import charge_back_deposit, charge_back_deposit_again, reverse_chargeback
from .deposits import complete_deposit, create_deposit, fail_deposit, mark_deposit_pending
from .payouts import (
    PayoutClaim,
    claim_payout,
    enqueue_payout_dispatch,
    mark_payout_accepted,
    mark_payout_sending,
    note_payout_error,
    record_payout_failed,
    record_payout_returned,
    record_payout_succeeded,
    retry_payout,
    start_payout,
)
from .withdrawals import (
    approvals_required,
    approve_withdrawal,
    cancel_withdrawal,
    mark_withdrawal_paid,
    reject_withdrawal,
    request_withdrawal,
)

__all__ = [
    "PayoutClaim",
    "approvals_required",
    "approve_withdrawal",
    "cancel_withdrawal",
    "charge_back_deposit",
    "charge_back_deposit_again",
    "claim_payout",
    "complete_deposit",
    "create_deposit",
    "enqueue_payout_dispatch",
    "fail_deposit",
    "mark_deposit_pending",
    "mark_payout_accepted",
    "mark_payout_sending",
    "mark_withdrawal_paid",
    "note_payout_error",
    "record_payout_failed",
    "record_payout_returned",
    "record_payout_succeeded",
    "reject_withdrawal",
    "request_withdrawal",
    "retry_payout",
    "reverse_chargeback",
    "start_payout",
]
