"""Domain errors: one base class with a stable code, an HTTP status and structured fields.

Services raise these; the API's exception handler renders them as problem+json and the
console shows their message. The codes are part of the public contract.
"""

from wallet.money import format_amount


class DomainError(Exception):
    error_code = "DOMAIN_ERROR"
    status = 400
    title = "Request refused"

    def __init__(self, detail: str | None = None, **fields):
        self.detail = detail or self.title
        self.fields = fields
        super().__init__(self.detail)

    def problem_fields(self) -> dict:
        """Extra members for the problem+json body (money already as decimal text)."""
        return dict(self.fields)


class ValidationFailed(DomainError):
    error_code = "VALIDATION_ERROR"
    status = 400
    title = "Invalid request"


class NotFound(DomainError):
    error_code = "NOT_FOUND"
    status = 404
    title = "Not found"


class PermissionDenied(DomainError):
    error_code = "PERMISSION_DENIED"
    status = 403
    title = "Permission denied"


class TenantSuspended(DomainError):
    error_code = "TENANT_SUSPENDED"
    status = 403
    title = "Tenant suspended"


class InsufficientFunds(DomainError):
    error_code = "INSUFFICIENT_FUNDS"
    status = 422
    title = "Insufficient funds"


class IllegalTransition(DomainError):
    error_code = "ILLEGAL_TRANSACTION_STATE_TRANSITION"
    status = 409
    title = "Illegal state transition"

    def __init__(self, *, tx_type: str, from_state: str, to_state: str, detail: str | None = None):
        super().__init__(
            detail or f"A {tx_type} in state '{from_state}' cannot move to '{to_state}'.",
            tx_type=tx_type,
            from_state=str(from_state),
            to_state=str(to_state),
        )
        self.tx_type, self.from_state, self.to_state = tx_type, str(from_state), str(to_state)


class PaymentLimitExceeded(DomainError):
    """A tenant daily limit would be exceeded. Amounts are kept in minor units."""

    error_code = "TENANT_PAYMENT_LIMIT_EXCEEDED"
    status = 422
    title = "Payment limit exceeded"

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


class PayoutCooldownActive(DomainError):
    error_code = "PAYOUT_COOLDOWN_ACTIVE"
    status = 409
    title = "Payout cooldown active"


class FourEyesViolation(DomainError):
    """An operator tried to approve or pay a withdrawal they requested or already approved."""

    error_code = "FOUR_EYES_VIOLATION"
    status = 409
    title = "Another operator must do this"


class ReviewReasonRequired(DomainError):
    error_code = "REVIEW_REASON_REQUIRED"
    status = 400
    title = "A reason is required"


class ProviderNotConfigured(DomainError):
    """The tenant's PSP cannot take the request now (unreachable, or none configured)."""

    error_code = "PROVIDER_UNAVAILABLE"
    status = 503
    title = "Payment provider unavailable"
