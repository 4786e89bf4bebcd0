"""Stripe-style idempotency for POSTs that create or move money, player and operator alike.

Contract (docs/idempotency.md): the Idempotency-Key header is required; the key is
scoped to (tenant, caller, operation); a repeat with the same request returns the
stored status and body with `Idempotent-Replayed: true` and does nothing; the same key
with a different request is 422 IDEMPOTENCY_KEY_REUSED; a duplicate while the first
is running is 409 IDEMPOTENCY_REQUEST_IN_PROGRESS; records expire after 24 hours.

How: the record is inserted in its own statement (so duplicates see it), then the
request runs in one transaction that holds the record's row lock, runs the service
and stores the response (outcomes only: 2xx, 409 and 422; a request refused before
acting, such as a 400, frees the key). A duplicate that cannot take the lock at once gets 409. A
crash rolls back the service's work with the lock, and leaves the record without a
response, so the retry runs the request again.
"""

import hashlib
import json
import re
from functools import wraps

from django.db import OperationalError, transaction
from django.http import Http404, HttpResponse
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer

from wallet.api.problems import exception_handler
from wallet.errors import DomainError, ValidationFailed
from wallet.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as Stripe accepts
_LOCK_NOT_AVAILABLE = "55P03"


class IdempotencyKeyRequired(DomainError):
    error_code = "IDEMPOTENCY_KEY_REQUIRED"
    status = 400
    title = "Idempotency-Key header required"


class IdempotencyKeyReused(DomainError):
    error_code = "IDEMPOTENCY_KEY_REUSED"
    status = 422
    title = "Idempotency-Key reused with a different request"


class IdempotencyRequestInProgress(DomainError):
    error_code = "IDEMPOTENCY_REQUEST_IN_PROGRESS"
    status = 409
    title = "A request with this Idempotency-Key is in progress"


def idempotent(operation: str):
    """Decorate a DRF view method; the view's `idempotency_scope(request)` names tenant and caller."""

    def decorator(handler):
        @wraps(handler)
        def wrapper(view, request, *args, **kwargs):
            tenant_id, caller_id = view.idempotency_scope(request)
            return run_idempotently(
                request,
                tenant_id=tenant_id,
                caller_id=caller_id,
                operation=operation,
                handler=lambda: handler(view, request, *args, **kwargs),
                context={"view": view, "request": request},
            )

        return wrapper

    return decorator


def request_key(request) -> str:
    key = request.headers.get(HEADER)
    if key is None or not key.strip():
        raise IdempotencyKeyRequired(f"Send an {HEADER} header: a unique value per intended operation.")
    if not _KEY.fullmatch(key):
        raise ValidationFailed(
            f"{HEADER} must be 1 to 255 visible ASCII characters.",
            errors={HEADER: ["Must be 1 to 255 visible ASCII characters."]},
        )
    return key


def fingerprint(request) -> str:
    """The same request means the same method, path and body (key order and spacing aside)."""
    data = request.data
    if hasattr(data, "lists"):
        data = dict(data.lists())
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def run_idempotently(request, *, tenant_id, caller_id, operation: str, handler, context) -> HttpResponse:
    key = request_key(request)
    digest = fingerprint(request)
    scope = {"tenant_id": tenant_id, "caller_id": caller_id, "operation": operation, "key": key}
    now = timezone.now()
    IdempotencyRecord.objects.bulk_create(
        [IdempotencyRecord(**scope, fingerprint=digest, created_at=now)], ignore_conflicts=True
    )
    with transaction.atomic():
        record = _lock(scope)
        if record.created_at < now - IdempotencyRecord.TTL:
            _restart(record, digest, now)  # an expired key is a new key
        if record.fingerprint != digest:
            raise IdempotencyKeyReused(
                f"This {HEADER} was already used for a different request; use a new key for a new operation."
            )
        if record.status == IdempotencyRecord.Status.COMPLETED:
            return _replay(record)
        response = _execute(handler, context)
        if response.status_code >= 500:
            transaction.set_rollback(True)
            return response
        if not _is_outcome(response.status_code):
            record.delete()  # refused before acting: the key stays free for a corrected request
            return response
        record.status = IdempotencyRecord.Status.COMPLETED
        record.response_status = response.status_code
        record.response_body = response.content.decode()
        record.response_content_type = response["Content-Type"]
        record.completed_at = timezone.now()
        record.save(
            update_fields=["status", "response_status", "response_body", "response_content_type", "completed_at"]
        )
        return response


def _lock(scope: dict) -> IdempotencyRecord:
    try:
        return IdempotencyRecord.objects.select_for_update(nowait=True).get(**scope)
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise IdempotencyRequestInProgress(
                "The first request with this key is still being processed; retry shortly."
            ) from None
        raise


def _restart(record: IdempotencyRecord, digest: str, now) -> None:
    record.fingerprint, record.created_at = digest, now
    record.status, record.response_status, record.response_body = IdempotencyRecord.Status.IN_PROGRESS, None, ""
    record.save()


def _is_outcome(status: int) -> bool:
    """Stored: successes, and refusals that come from acting (409 state, 422 funds or limits).

    Not stored: 400, 401, 403, 404 and the like, where the request was refused before
    anything was attempted; the key can then be used again for a corrected request.
    """
    return status < 400 or status in (409, 422)


def _execute(handler, context) -> HttpResponse:
    """Run the view; errors become their problem response so the outcome can be stored."""
    try:
        response = handler()
    except (DomainError, APIException, Http404) as error:
        response = exception_handler(error, context)
    return _rendered(response)


def _rendered(response) -> HttpResponse:
    """The response as exact bytes, so the stored copy and later replays are identical."""
    if not hasattr(response, "data"):
        return response
    content_type = response.content_type or "application/json"
    rendered = HttpResponse(
        JSONRenderer().render(response.data), status=response.status_code, content_type=content_type
    )
    for header, value in response.items():
        if header.lower() != "content-type":
            rendered[header] = value
    return rendered


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        record.response_body, status=record.response_status, content_type=record.response_content_type
    )
    response[REPLAYED_HEADER] = "true"
    return response
