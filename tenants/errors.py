"""Refusals that come from the tenant itself."""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class TenantSuspended(DomainError):
    error_code = "TENANT_SUSPENDED"
    status = 403
    title = "Tenant suspended"
    operator_message = _("This casino is suspended: no payments can be made.")


class PolicyChangePending(DomainError):
    """A loosening change waits for approval already; a tenant has one pending change at a time."""

    error_code = "POLICY_CHANGE_PENDING"
    status = 409
    title = "A policy change is already pending"
    operator_message = _("Another change to the payment policy is waiting for approval; approve or reject it first.")


class PolicyChangeStale(DomainError):
    """The policy moved since the change was requested: what the approver saw is no longer what it would do."""

    error_code = "POLICY_CHANGE_STALE"
    status = 409
    title = "The policy changed since this request"
    operator_message = _(
        "The payment policy changed since this request was made, so it cannot be approved as shown. "
        "Reject it and request the change again."
    )


class IllegalPolicyChangeStateTransition(DomainError):
    error_code = "ILLEGAL_POLICY_CHANGE_STATE_TRANSITION"
    status = 409
    title = "Illegal policy change state transition"
    operator_message = _("This policy change is %(from_state)s; it can no longer become %(to_state)s.")

    def __init__(self, *, from_state: str, to_state: str):
        super().__init__(
            f"A policy change that is {from_state} cannot become {to_state}.",
            from_state=str(from_state),
            to_state=str(to_state),
        )
