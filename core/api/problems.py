"""RFC 9457 problem+json for every error the API returns.

`exception_handler` is DRF's hook; `not_found` and `server_error` cover errors that
happen outside DRF (unknown URLs, crashes in middleware) for paths under /api/. A
500 never carries a trace: it is logged with the request id, which the client gets.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.module_loading import autodiscover_modules
from rest_framework import exceptions as drf
from rest_framework.response import Response

from core.errors import DomainError

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# error_code -> (HTTP status, title) for errors that arise in the HTTP layer itself. The
# domain's codes come from the DomainError classes (known_problem_types merges both).
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "VALIDATION_ERROR": (400, "Invalid request"),
    "AUTHENTICATION_REQUIRED": (401, "Authentication required"),
    "WEBHOOK_SIGNATURE_INVALID": (401, "Webhook signature invalid"),
    "PERMISSION_DENIED": (403, "Permission denied"),
    "NOT_FOUND": (404, "Not found"),
    "METHOD_NOT_ALLOWED": (405, "Method not allowed"),
    "NOT_ACCEPTABLE": (406, "Not acceptable"),
    "PAYLOAD_TOO_LARGE": (413, "Payload too large"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "Unsupported media type"),
    "RATE_LIMITED": (429, "Too many requests"),
    "INTERNAL_ERROR": (500, "Internal error"),
    "SERVICE_UNAVAILABLE": (503, "Service briefly unavailable"),
}


def known_problem_types() -> dict[str, tuple[int, str]]:
    """Every error_code the API can answer with: the HTTP layer's and every DomainError's.

    Each installed app's `errors` module is imported (its DomainError subclasses register
    themselves by existing), so the platform layer names no app above it.
    """
    autodiscover_modules("errors")
    import core.idempotency  # noqa: F401 - the idempotency codes live beside the decorator

    types = dict(PROBLEM_TYPES)
    pending = list(DomainError.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        types.setdefault(cls.error_code, (cls.status, cls.title))
    return types


def problem_type_uri(error_code: str) -> str:
    return f"/api/v1/problems/{error_code.lower().replace('_', '-')}/"


def problem_body(error_code: str, detail: str, *, status: int | None = None, title: str | None = None, **fields):
    known_status, known_title = known_problem_types().get(error_code, (status or 400, title or "Request refused"))
    return {
        "type": problem_type_uri(error_code),
        "title": title or known_title,
        "status": status or known_status,
        "detail": str(detail),
        "error_code": error_code,
        **fields,
    }


def problem_response(error_code: str, detail: str, *, status: int | None = None, headers=None, **fields) -> Response:
    body = problem_body(error_code, detail, status=status, **fields)
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def _validation_errors(detail) -> dict:
    """DRF's nested error detail as {field: [messages]}; non-field errors under "non_field_errors"."""
    if isinstance(detail, dict):
        return {str(k): _messages(v) for k, v in detail.items()}
    return {"non_field_errors": _messages(detail)}


def _messages(value) -> list[str]:
    if isinstance(value, list):
        return [m for item in value for m in _messages(item)]
    if isinstance(value, dict):
        return [f"{k}: {m}" for k, v in value.items() for m in _messages(v)]
    return [str(value)]


def exception_handler(exc, context):
    """DRF exception handler: every error becomes problem+json with a stable error_code."""
    request = context.get("request")
    if isinstance(exc, DomainError):
        return problem_response(exc.error_code, exc.detail, status=exc.status, **exc.problem_fields())
    if isinstance(exc, drf.ValidationError):
        return problem_response("VALIDATION_ERROR", "The request is not valid.", errors=_validation_errors(exc.detail))
    if isinstance(exc, RequestDataTooBig):
        # Django's own limit, behind RequestBodyLimitMiddleware: the same answer, never a 400 or 500.
        return payload_too_large_response()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return problem_response("VALIDATION_ERROR", f"The request body could not be parsed: {exc}", errors={})
    if isinstance(exc, drf.ParseError):
        return problem_response("VALIDATION_ERROR", f"The request body could not be parsed: {exc.detail}", errors={})
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        headers = {"WWW-Authenticate": 'Token realm="api"'}
        return problem_response("AUTHENTICATION_REQUIRED", str(exc.detail), status=401, headers=headers)
    if isinstance(exc, drf.PermissionDenied | DjangoPermissionDenied):
        return problem_response("PERMISSION_DENIED", str(getattr(exc, "detail", "Permission denied.")))
    if isinstance(exc, drf.NotFound | Http404):
        return problem_response("NOT_FOUND", "Not found.")
    if isinstance(exc, drf.MethodNotAllowed):
        return problem_response("METHOD_NOT_ALLOWED", str(exc.detail))
    if isinstance(exc, drf.NotAcceptable):
        return problem_response("NOT_ACCEPTABLE", str(exc.detail))
    if isinstance(exc, drf.UnsupportedMediaType):
        return problem_response("UNSUPPORTED_MEDIA_TYPE", str(exc.detail))
    if isinstance(exc, drf.Throttled):
        wait = int(exc.wait or 1)
        return problem_response(
            "RATE_LIMITED", "Too many requests; slow down.", headers={"Retry-After": str(wait)}, retry_after=wait
        )
    if isinstance(exc, drf.APIException):
        return problem_response("VALIDATION_ERROR", str(exc.detail), status=exc.status_code)
    if isinstance(exc, OperationalError | InterfaceError):
        # The database went away mid-request (restart, failover, dropped connection). The
        # transaction rolled back; the same request with the same Idempotency-Key is safe.
        log.warning("Database unavailable during %s: %s", getattr(request, "path", "?"), exc)
        return problem_response(
            "SERVICE_UNAVAILABLE",
            "The service is briefly unavailable; nothing was done. Retry with the same Idempotency-Key.",
            headers={"Retry-After": "1"},
        )
    request_id = getattr(request, "request_id", "") if request is not None else ""
    log.exception("Unhandled error in %s (request %s)", getattr(request, "path", "?"), request_id)
    return problem_response(
        "INTERNAL_ERROR",
        "Something went wrong on our side. Nothing was charged twice; retry safely.",
        request_id=request_id,
    )


def json_problem(error_code: str, detail: str, request, **fields) -> JsonResponse:
    """A problem answered outside DRF (middleware, URL resolution, crashes)."""
    body = problem_body(error_code, detail, request_id=getattr(request, "request_id", ""), **fields)
    return JsonResponse(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)


def payload_too_large_detail() -> tuple[str, dict]:
    limit = settings.MAX_REQUEST_BODY_BYTES
    return f"The request body is larger than {limit} bytes; nothing was read or done.", {"max_bytes": limit}


def payload_too_large_response() -> Response:
    detail, fields = payload_too_large_detail()
    return problem_response("PAYLOAD_TOO_LARGE", detail, **fields)


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return json_problem("NOT_FOUND", "Not found.", request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return json_problem("INTERNAL_ERROR", "Something went wrong on our side.", request)
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)
