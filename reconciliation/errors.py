"""Refusals of the reconciliation services (codes are part of the operator API contract)."""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class ReconciliationRunInProgress(DomainError):
    """Another run over an overlapping scope holds the lock: this one does not start."""

    error_code = "RECONCILIATION_RUN_IN_PROGRESS"
    status = 409
    title = "Reconciliation run in progress"
    operator_message = _("Another reconciliation run over this scope is in progress; try again when it has finished.")


class IllegalFindingStateTransition(DomainError):
    """A resolved finding is closed; it cannot be acknowledged or resolved again with new content."""

    error_code = "ILLEGAL_FINDING_STATE_TRANSITION"
    status = 409
    title = "Illegal finding state transition"
    operator_message = _("A %(from_state)s finding cannot become %(to_state)s.")

    def __init__(self, *, from_state: str, to_state: str):
        super().__init__(
            f"A {from_state} finding cannot become {to_state}.", from_state=str(from_state), to_state=str(to_state)
        )
