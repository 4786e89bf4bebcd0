from wallet.errors import DomainError


class PayoutOutcomeConflict(DomainError):
    """The PSP reported an outcome that contradicts one already recorded for the attempt."""

    error_code = "PAYOUT_OUTCOME_CONFLICT"
    status = 409
    title = "Conflicting payout outcome"
