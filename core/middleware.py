"""Request plumbing: an id per request (echoed as X-Request-ID), the client IP, the body size limit,
the console's language."""

import io
import re

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpResponse
from django.middleware.locale import LocaleMiddleware

from core.api.problems import json_problem, payload_too_large_detail
from core.context import new_request_id, request_context
from core.ids import whole_number

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def client_ip(request) -> str | None:
    # Behind a proxy, configure it to set REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips);
    # X-Forwarded-For from the client is not trusted here.
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.headers.get("X-Request-ID", "")
        request.request_id = supplied if _SAFE_REQUEST_ID.match(supplied) else new_request_id()
        with request_context(request.request_id, client_ip(request)):
            response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class RequestBodyLimitMiddleware:
    """A body over settings.MAX_REQUEST_BODY_BYTES is answered 413 before anything reads it.

    A declared Content-Length is enough to refuse, and nothing is read. A body without one
    (chunked) is read here, at most limit + 1 bytes, and refused if it is longer; otherwise it
    is kept and looks like a sized body to everything after (parsers, signatures). Placed
    before any middleware that reads the body (CSRF reads forms).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.MAX_REQUEST_BODY_BYTES
        declared = _declared_length(request)
        if declared is None:
            if not _buffer_unsized_body(request, limit):
                return _too_large(request)
        elif declared > limit:
            return _too_large(request)
        return self.get_response(request)


def _declared_length(request) -> int | None:
    value = request.META.get("CONTENT_LENGTH")
    return whole_number(value, max_digits=30) if isinstance(value, str) else None


def _buffer_unsized_body(request, limit: int) -> bool:
    """Read a body that has no Content-Length, at most limit + 1 bytes; False when it is too long."""
    if "wsgi.input" in request.META:
        if not request.META.get("wsgi.input_terminated"):
            return True  # no end-of-input signal from the server: Django reads no body, nor do we
        raw = request.META["wsgi.input"]  # de-chunked by the server; Django would read none of it
    else:
        raw = request._stream  # ASGI: the server handed over the whole body already
    data = raw.read(limit + 1)
    if len(data) > limit:
        return False
    if data:
        # What Django's own request.body does once read: later readers see a sized body.
        request.META["CONTENT_LENGTH"] = str(len(data))
        request._stream = LimitedStream(io.BytesIO(data), len(data))
    return True


def _too_large(request):
    detail, fields = payload_too_large_detail()
    if request.path.startswith("/api/"):
        return json_problem("PAYLOAD_TOO_LARGE", detail, request, **fields)
    return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")


class ConsoleLocaleMiddleware(LocaleMiddleware):
    """LocaleMiddleware, skipped for /api/: machine clients read error_code, not prose."""

    def process_request(self, request):
        if not request.path.startswith("/api/"):
            super().process_request(request)

    def process_response(self, request, response):
        if request.path.startswith("/api/"):
            return response
        return super().process_response(request, response)
