"""Gives every request an id (echoed as X-Request-ID) and remembers the client IP."""

import re

from wallet.context import new_request_id, request_context

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
