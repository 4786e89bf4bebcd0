"""Who and where a request comes from, for the audit trail.

Set once per HTTP request by RequestContextMiddleware (and per task by Celery), read by
record_event, so services need not pass request ids and IPs around.
"""

import contextvars
import uuid
from contextlib import contextmanager

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
client_ip_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def request_context(request_id: str, ip: str | None = None):
    id_token = request_id_var.set(request_id)
    ip_token = client_ip_var.set(ip)
    try:
        yield
    finally:
        request_id_var.reset(id_token)
        client_ip_var.reset(ip_token)
