"""HTTP/1.1 connections to a PSP kept open between calls, one per process, thread and host.

A new TCP connection (and TLS handshake, for a real PSP) per payout is setup that a
worker repeats for every task; PSPs, like our own API clients, expect pooled keep-alive
connections. Used by the adapters' HTTP mode.

A kept connection the PSP has closed meanwhile fails before any answer arrives; the call
is then made once more on a new connection. That is safe only for calls that may be
repeated, which every call of the provider contract is: payouts carry the attempt's
idempotency key, payments are idempotent on our reference, status reads change nothing.
Any other failure drops the connection and is the caller's to map (time-out, refused).
"""

import http.client
import os
import threading
from urllib.parse import urlsplit

_local = threading.local()
# Failures of a reused connection that mean "the server had closed it", not "no answer".
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class Response:
    def __init__(self, status: int, body: bytes):
        self.status, self.body = status, body


def request(method: str, url: str, *, body: bytes | None, headers: dict, timeout: float) -> Response:
    """One request on this thread's kept connection to the URL's host; OSError (time-outs
    included) propagates after the connection was dropped."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    for reused in (True, False):
        connection, was_kept = _connection(parts.scheme, parts.netloc, timeout, fresh=not reused)
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except _STALE:
            _drop(parts.scheme, parts.netloc)
            if was_kept:
                continue  # closed by the PSP while idle: once more on a new connection
            raise
        except BaseException:
            _drop(parts.scheme, parts.netloc)
            raise
        if response.will_close:
            _drop(parts.scheme, parts.netloc)
        return Response(response.status, data)
    raise AssertionError("unreachable")


def _connection(scheme: str, netloc: str, timeout: float, *, fresh: bool):
    pool = _pool()
    key = (scheme, netloc)
    kept = pool.get(key)
    if kept is not None and not fresh:
        kept.timeout = timeout
        if kept.sock is not None:
            kept.sock.settimeout(timeout)
        return kept, True
    _drop(scheme, netloc)
    cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    connection = cls(netloc, timeout=timeout)
    pool[key] = connection
    return connection, False


def _drop(scheme: str, netloc: str) -> None:
    connection = _pool().pop((scheme, netloc), None)
    if connection is not None:
        connection.close()


def _pool() -> dict:
    """This thread's connections; a forked child (a Celery pool process) starts with none."""
    if getattr(_local, "pid", None) != os.getpid():
        _local.pid, _local.connections = os.getpid(), {}
    return _local.connections


def close_all() -> None:
    for scheme, netloc in list(_pool()):
        _drop(scheme, netloc)
