"""Domain errors: one base class with a stable code, an HTTP status and structured fields.

Services raise these; the API's exception handler renders them as problem+json and the
console shows `describe(error)`. The codes are part of the public contract. Each domain
keeps its own codes in its `errors.py`, one class per code; the generic ones live here.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    error_code = "DOMAIN_ERROR"
    status = 400
    title = "Request refused"
    # What an operator reads in the console, in their language; %(field)s names come
    # from the error's fields (and %(detail)s). None: the English detail is shown.
    operator_message = None

    def __init__(self, detail: str | None = None, **fields):
        self.detail = detail or self.title
        self.fields = fields
        super().__init__(self.detail)

    def problem_fields(self) -> dict:
        """Extra members for the problem+json body (money already as decimal text)."""
        return dict(self.fields)


def describe(error: DomainError) -> str:
    """The error as a message an operator can act on, in the operator's language."""
    text = error.operator_message
    if text is None:
        return error.detail
    try:
        return str(text) % {"detail": error.detail, **error.problem_fields()}
    except (KeyError, TypeError, ValueError):
        return error.detail


class ValidationFailed(DomainError):
    error_code = "VALIDATION_ERROR"
    status = 400
    title = "Invalid request"
    operator_message = _("Please correct the form: %(detail)s")


class NotFound(DomainError):
    error_code = "NOT_FOUND"
    status = 404
    title = "Not found"
    operator_message = _("Not found.")


class PermissionDenied(DomainError):
    error_code = "PERMISSION_DENIED"
    status = 403
    title = "Permission denied"
    operator_message = _("Your role does not allow this.")


class ReviewReasonRequired(DomainError):
    error_code = "REVIEW_REASON_REQUIRED"
    status = 400
    title = "A reason is required"
    operator_message = _("Give a reason for this decision.")


class FourEyesViolation(DomainError):
    """Separation of duties: the person who asked for a risky act may not also complete it."""

    error_code = "FOUR_EYES_VIOLATION"
    status = 409
    title = "Another operator must do this"
    operator_message = _("Four-eyes rule: another operator must do this (you requested or already approved it).")
