"""Domain errors as messages an operator can act on, in the operator's language."""

from django.utils.translation import gettext as _

from wallet.errors import DomainError


def describe(error: DomainError) -> str:
    fields = error.problem_fields()
    texts = {
        "ILLEGAL_TRANSACTION_STATE_TRANSITION": _(
            "Not possible now: this %(tx_type)s is %(from_state)s and cannot become %(to_state)s."
        ),
        "REVIEW_REASON_REQUIRED": _("Give a reason for this decision."),
        "FOUR_EYES_VIOLATION": _(
            "Four-eyes rule: another operator must do this (you requested or already approved it)."
        ),
        "PAYOUT_RETRY_LIMIT_REACHED": _(
            "The payout retry limit is reached (%(attempts)s of %(retry_limit)s attempts). Reject the withdrawal to "
            "release the money, or change the policy."
        ),
        "PAYOUT_COOLDOWN_ACTIVE": _("Too soon after the last payout attempt: wait %(retry_after_seconds)s seconds."),
        "TENANT_PAYMENT_LIMIT_EXCEEDED": _(
            "The daily %(action)s limit of %(limit)s %(currency)s would be exceeded: %(used)s used today, "
            "%(requested)s requested."
        ),
        "INSUFFICIENT_FUNDS": _("Insufficient funds: %(available)s %(currency)s available, %(requested)s requested."),
        "TENANT_SUSPENDED": _("This casino is suspended: no payments can be made."),
        "PERMISSION_DENIED": _("Your role does not allow this."),
        "PAYOUT_OUTCOME_CONFLICT": _("The payment provider reported a conflicting outcome; see the audit trail."),
        "VALIDATION_ERROR": _("Please correct the form: %(detail)s"),
        "NOT_FOUND": _("Not found."),
        "RECONCILIATION_RUN_IN_PROGRESS": _(
            "Another reconciliation run over this scope is in progress; try again when it has finished."
        ),
        "ILLEGAL_FINDING_STATE_TRANSITION": _("A %(from_state)s finding cannot become %(to_state)s."),
    }
    text = texts.get(error.error_code)
    if text is None:
        return error.detail
    try:
        return text % {"detail": error.detail, **fields}
    except (KeyError, TypeError, ValueError):
        return error.detail
