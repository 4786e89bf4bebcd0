"""Request plumbing: an id per request (echoed as X-Request-ID), the client IP, the console's language."""

import re

from django.middleware.locale import LocaleMiddleware

from core.context import new_request_id, request_context

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


class ConsoleLocaleMiddleware(LocaleMiddleware):
    """LocaleMiddleware, skipped for /api/: machine clients read error_code, not prose."""

    def process_request(self, request):
        if not request.path.startswith("/api/"):
            super().process_request(request)

    def process_response(self, request, response):
        if request.path.startswith("/api/"):
            return response
        return super().process_response(request, response)
