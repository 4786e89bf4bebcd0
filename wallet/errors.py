"""Refusals of the wallet's services: balances, limits, state machines and payout transitions.

The payout codes live here, not in payouts/: they are raised by the withdrawal's own
transitions (start, retry, record an outcome), which belong to the wallet; payouts/
keeps the PSP's input and output.
"""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.money import format_amount


class InsufficientFunds(DomainError):
    error_code = "INSUFFICIENT_FUNDS"
    status = 422
    title = "Insufficient funds"
    operator_message = _("Insufficient funds: %(available)s %(currency)s available, %(requested)s requested.")


class IllegalTransactionStateTransition(DomainError):
    error_code = "ILLEGAL_TRANSACTION_STATE_TRANSITION"
    status = 409
    title = "Illegal state transition"
    operator_message = _("Not possible now: this %(tx_type)s is %(from_state)s and cannot become %(to_state)s.")

    def __init__(self, *, tx_type: str, from_state: str, to_state: str, detail: str | None = None):
        super().__init__(
            detail or f"A {tx_type} in state '{from_state}' cannot move to '{to_state}'.",
            tx_type=tx_type,
            from_state=str(from_state),
            to_state=str(to_state),
        )
        self.tx_type, self.from_state, self.to_state = tx_type, str(from_state), str(to_state)


class TenantPaymentLimitExceeded(DomainError):
    """A tenant daily limit would be exceeded. Amounts are kept in minor units."""

    error_code = "TENANT_PAYMENT_LIMIT_EXCEEDED"
    status = 422
    title = "Payment limit exceeded"
    operator_message = _(
        "The daily %(action)s limit of %(limit)s %(currency)s would be exceeded: %(used)s used today, "
        "%(requested)s requested."
    )

    def __init__(self, *, action: str, limit: int, used: int, requested: int, currency: str):
        super().__init__(
            f"The daily {action} limit of {format_amount(limit, currency)} {currency} would be exceeded: "
            f"{format_amount(used, currency)} used today, {format_amount(requested, currency)} requested.",
            action=action,
            limit=format_amount(limit, currency),
            used=format_amount(used, currency),
            requested=format_amount(requested, currency),
            currency=currency,
        )
        self.action, self.limit, self.used, self.requested, self.currency = action, limit, used, requested, currency


class PayoutRetryLimitReached(DomainError):
    error_code = "PAYOUT_RETRY_LIMIT_REACHED"
    status = 409
    title = "Payout retry limit reached"
    operator_message = _(
        "The payout retry limit is reached (%(attempts)s of %(retry_limit)s attempts). Reject the withdrawal to "
        "release the money, or change the policy."
    )


class PayoutCooldownActive(DomainError):
    error_code = "PAYOUT_COOLDOWN_ACTIVE"
    status = 409
    title = "Payout cooldown active"
    operator_message = _("Too soon after the last payout attempt: wait %(retry_after_seconds)s seconds.")


class PayoutOutcomeConflict(DomainError):
    """The PSP reported an outcome that contradicts one already recorded for the attempt."""

    error_code = "PAYOUT_OUTCOME_CONFLICT"
    status = 409
    title = "Conflicting payout outcome"
    operator_message = _("The payment provider reported a conflicting outcome; see the audit trail.")


class WithdrawalCancelDisabled(DomainError):
    """The casino does not let players take back a withdrawal (no reverse withdrawals, as in the UK)."""

    error_code = "WITHDRAWAL_CANCEL_DISABLED"
    status = 403
    title = "Withdrawals cannot be canceled"
    operator_message = _("Players of this casino cannot cancel a withdrawal; an operator can still reject it.")


class ClosedLoopViolation(DomainError):
    """The destination may not receive this much (closed loop), or cannot receive payouts at all.

    `allowed` lists every payout-capable method of the player with what it may receive now
    (decimal text); `reason` is `over_net_deposits` or `not_payout_capable`.
    """

    error_code = "CLOSED_LOOP_VIOLATION"
    status = 422
    title = "Closed loop: not to this payment method"
    operator_message = _("Closed loop: this payment method may not receive this amount now.")


class PlayerAccountRestricted(DomainError):
    """The player owes the casino (a chargeback left a receivable): no withdrawals and no play until repaid.

    `reason` is `receivable`; `receivables` lists what is owed per currency (decimal text).
    """

    error_code = "PLAYER_ACCOUNT_RESTRICTED"
    status = 403
    title = "Account restricted"
    operator_message = _(
        "The player's account is restricted: a chargeback left them owing the casino. No withdrawals or play "
        "until deposits repay it; you can still reject a withdrawal, which repays it."
    )
