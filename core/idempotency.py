"""Stripe-style idempotency for POSTs that create or move money, player and operator alike.

Contract (docs/idempotency.md): the Idempotency-Key header is required; the key is
scoped to (tenant, caller, operation); a repeat with the same request returns the
stored status and body with `Idempotent-Replayed: true` and does nothing; the same key
with a different request is 422 IDEMPOTENCY_KEY_REUSED; a duplicate while the first
is running is 409 IDEMPOTENCY_REQUEST_IN_PROGRESS; records expire after 24 hours.

An operation that moves no money may take the key as an option (`required=False`, as
Stripe accepts a key on every POST): without one it simply runs; with one, it is held to
the same contract.

How: one transaction takes a transaction-scoped advisory lock on the key (a twin that
cannot take it at once gets 409), inserts or reads the key's record, runs the view
and its service, and stores the response (outcomes only: 2xx, 409 and 422). A
request refused before acting (a 400, say) or one that crashed rolls back, record
and all, so the key is free and a retry runs the request again, exactly once.
"""

import hashlib
import json
import re
from functools import wraps

from django.db import connection, transaction
from django.http import Http404, HttpResponse
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer

from core.api.problems import exception_handler
from core.errors import DomainError, ValidationFailed
from core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as Stripe accepts


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


def idempotent(operation: str, *, phased: bool = False, required: bool = True):
    """Decorate a DRF view method; the view's `idempotency_scope(request)` names tenant and caller.

    required=False: a request without the header runs as a plain request (for operations
    that create something but move no money); one with the header is held to the contract.

    phased=False (default): the view runs inside one transaction with the stored
    response. phased=True: for views that must call a PSP between two commits; the view
    gets an `IdempotentCall` (keyword `idempotency`) whose recovery point lets a retry
    resume after a crash instead of starting over.
    """

    def decorator(handler):
        @wraps(handler)
        def wrapper(view, request, *args, **kwargs):
            if not required and request.headers.get(HEADER) is None:
                return handler(view, request, *args, **kwargs)
            tenant_id, caller_id = view.idempotency_scope(request, **kwargs)
            run = run_phased if phased else run_idempotently
            return run(
                request,
                tenant_id=tenant_id,
                caller_id=caller_id,
                operation=operation,
                handler=lambda **extra: handler(view, request, *args, **kwargs, **extra),
                context={"view": view, "request": request},
            )

        return wrapper

    return decorator


class IdempotentCall:
    """What a phased view knows about its key: where an earlier try of it got to."""

    def __init__(self, record: "IdempotencyRecord"):
        self.record = record

    @property
    def recovery_point(self) -> str:
        return self.record.recovery_point

    def save_recovery_point(self, value: str) -> None:
        """Committed at once, so a retry after a crash resumes from here."""
        IdempotencyRecord.objects.filter(pk=self.record.pk).update(recovery_point=value)
        self.record.recovery_point = value


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
    scope = (tenant_id, caller_id, operation, key)
    now = timezone.now()
    with transaction.atomic():
        record = _claim(scope, digest, now)
        earlier = _earlier_answer(record, digest, now)
        if earlier is not None:
            return earlier
        response = _execute(handler, context)
        if response.status_code >= 500 or not _is_outcome(response.status_code):
            # Nothing to keep: roll back, so a new record disappears and the key stays free.
            transaction.set_rollback(True)
            return response
        _complete(record, response)
        return response


def run_phased(request, *, tenant_id, caller_id, operation: str, handler, context) -> HttpResponse:
    """Idempotency for a view whose work spans several commits (e.g. create, call PSP, record).

    A session-level advisory lock keeps twins out (409) for the whole request; the
    view's own services commit as they go and the view saves a recovery point after
    its first commit, so a retry after a crash resumes rather than repeats.
    """
    key = request_key(request)
    digest = fingerprint(request)
    scope = (tenant_id, caller_id, operation, key)
    lock_id = _lock_id(scope)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
        if not cursor.fetchone()[0]:
            raise IdempotencyRequestInProgress(
                "The first request with this key is still being processed; retry shortly."
            )
    try:
        now = timezone.now()
        record = _claim(scope, digest, now)
        earlier = _earlier_answer(record, digest, now)
        if earlier is not None:
            return earlier
        response = _execute(lambda: handler(idempotency=IdempotentCall(record)), context)
        if response.status_code >= 500:
            return response  # the record keeps its recovery point for the retry
        if not _is_outcome(response.status_code):
            # Refused before acting (the view checks before it creates anything): free the key.
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            return response
        _complete(record, response)
        return response
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


def _earlier_answer(record, digest: str, now) -> HttpResponse | None:
    """A replay, a refusal for a reused key, or None when the request should run."""
    if record.created_at < now - IdempotencyRecord.TTL:
        _restart(record, digest, now)  # an expired key is a new key
    if record.fingerprint != digest:
        raise IdempotencyKeyReused(
            f"This {HEADER} was already used for a different request; use a new key for a new operation."
        )
    if record.status == IdempotencyRecord.Status.COMPLETED:
        return _replay(record)
    return None


def _lock_id(scope: tuple) -> int:
    return int.from_bytes(hashlib.sha256(repr(scope).encode()).digest()[:8], "big", signed=True)


_COLUMNS = "id, fingerprint, status, response_status, response_body, response_content_type, recovery_point, created_at"
# One round trip: take the key's transaction-scoped advisory lock; only if it was free,
# insert the record or read the one an earlier request left. The lock is released by
# commit or rollback, and by PostgreSQL when a crashed process's connection goes away,
# so a crash never leaves a key blocked.
_CLAIM = f"""
    WITH claim AS (SELECT pg_try_advisory_xact_lock(%s) AS got),
    inserted AS (
        INSERT INTO wallet_idempotencyrecord (tenant_id, caller_id, operation, key, fingerprint, status,
                                              response_body, response_content_type, recovery_point, created_at)
        SELECT %s, %s, %s, %s, %s, 'in_progress', '', '', '', %s FROM claim WHERE claim.got
        ON CONFLICT (tenant_id, caller_id, operation, key) DO NOTHING
        RETURNING {_COLUMNS})
    SELECT claim.got, found.* FROM claim LEFT JOIN (
        SELECT {_COLUMNS} FROM inserted
        UNION ALL
        SELECT {_COLUMNS} FROM wallet_idempotencyrecord
        WHERE tenant_id = %s AND caller_id = %s AND operation = %s AND key = %s
    ) AS found ON claim.got
"""


def _claim(scope: tuple, digest: str, now) -> IdempotencyRecord:
    """Lock the key for this transaction and return its record, or answer 409 if a twin holds it."""
    lock_id = _lock_id(scope)
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM, [lock_id, *scope, digest, now, *scope])
        got, *row = cursor.fetchone()
        if got and row[0] is None:
            # A twin committed the record after this statement's snapshot was taken and then
            # released the lock we took: the row exists but the statement could not see it.
            # We hold the lock now, so a fresh statement (a fresh snapshot) reads it.
            cursor.execute(_CLAIM, [lock_id, *scope, digest, now, *scope])
            got, *row = cursor.fetchone()
    if not got:
        raise IdempotencyRequestInProgress("The first request with this key is still being processed; retry shortly.")
    return IdempotencyRecord.from_db("default", _COLUMNS.split(", "), row)


def _restart(record: IdempotencyRecord, digest: str, now) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        fingerprint=digest,
        created_at=now,
        status=IdempotencyRecord.Status.IN_PROGRESS,
        response_status=None,
        response_body="",
        response_content_type="",
        recovery_point="",
        completed_at=None,
    )
    record.fingerprint, record.created_at, record.status = digest, now, IdempotencyRecord.Status.IN_PROGRESS
    record.recovery_point = ""


def _complete(record: IdempotencyRecord, response: HttpResponse) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE wallet_idempotencyrecord SET status = 'completed', response_status = %s, response_body = %s, "
            "response_content_type = %s, completed_at = %s WHERE id = %s",
            [response.status_code, response.content.decode(), response["Content-Type"], timezone.now(), record.pk],
        )


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
