"""The adapters' HTTP connections to a PSP: kept open between calls, renewed when the PSP closed them.

Against a small HTTP/1.1 server of the test's own on a free port, which counts the TCP
connections it accepted and can be told to close a connection after answering, or to
close one without answering.
"""

import http.server
import json
import threading

import pytest

from payouts.providers import PayoutStatus, ProviderTimeout, ProviderUnavailable, keepalive
from payouts.providers.sandbox import SandboxProvider


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless told otherwise

    def do_GET(self):  # noqa: N802 - http.server's naming
        server = self.server
        server.requests += 1
        if server.hang_up_unanswered:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        body = json.dumps({"status": "pending", "payout_id": f"po_{server.requests}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if server.close_after_answer:
            self.close_connection = True  # closed by the server while the client keeps it

    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = self.requests = 0
        self.close_after_answer = self.hang_up_unanswered = False

    def get_request(self):
        self.connections += 1
        return super().get_request()


@pytest.fixture
def psp():
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    keepalive.close_all()
    yield server
    keepalive.close_all()
    server.shutdown()
    server.server_close()


class _Account:
    def __init__(self, base_url):
        self.base_url, self.api_key, self.merchant_id = base_url, "sk_test", "m1"


def _provider(server) -> SandboxProvider:
    return SandboxProvider(_Account(f"http://127.0.0.1:{server.server_address[1]}"))


def test_calls_share_one_kept_connection(psp):
    provider = _provider(psp)
    answers = [provider.fetch_payout(idempotency_key=f"attempt-{n}") for n in range(5)]
    assert [a.status for a in answers] == [PayoutStatus.PENDING] * 5
    assert (psp.requests, psp.connections) == (5, 1)


def test_a_connection_the_psp_closed_is_replaced_and_the_call_made_once_more(psp):
    provider = _provider(psp)
    psp.close_after_answer = True
    first = provider.fetch_payout(idempotency_key="attempt-1")
    second = provider.fetch_payout(idempotency_key="attempt-1")
    assert (first.provider_reference, second.provider_reference) == ("po_1", "po_2")
    assert psp.connections == 2


def test_a_connection_closed_without_an_answer_is_an_unknown_outcome(psp):
    provider = _provider(psp)
    psp.hang_up_unanswered = True
    with pytest.raises(ProviderTimeout):
        provider.fetch_payout(idempotency_key="attempt-1")
    assert psp.requests == 1  # a new connection's failure is not retried: the PSP may have acted


def test_a_psp_that_refuses_connections_is_unavailable(psp):
    provider = _provider(psp)
    psp.shutdown()
    psp.server_close()
    with pytest.raises(ProviderUnavailable):
        provider.fetch_payout(idempotency_key="attempt-1")
