"""The product's web server (scripts/web.sh, the Procfile's web line): granian over config.wsgi.

It keeps what gunicorn gave: every worker imports config.wsgi, whose unit-of-work start-up
check (core.E001/E002) refuses a product that would write fenced models past their save()
or signal receivers, and then the server exits non-zero instead of serving. And it keeps
connections open between requests (HTTP/1.1 keep-alive), which gunicorn's sync workers did not.
"""

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
WEB = REPO / "scripts" / "web.sh"

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(port: int, **env) -> subprocess.Popen:
    environment = {**os.environ, "PORT": str(port), "WEB_WORKERS": "1", "WEB_ACCESS_LOG": "0", **env}
    environment |= {"DJANGO_SSL_REDIRECT": "0", "WEB_LOG_LEVEL": "warning"}
    return subprocess.Popen(
        [str(WEB)],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def stop(server: subprocess.Popen) -> str:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
    try:
        output, _ = server.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        output, _ = server.communicate()
    return output


def answering(port: int, server: subprocess.Popen, timeout: float = 90) -> http.client.HTTPConnection:
    """A connection to the server once its worker has loaded the application."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, stop(server)
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/api/v1/wallet/")
            response = connection.getresponse()
            response.read()
            if response.status < 500:
                return connection
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the web server did not answer:\n{stop(server)}")


def test_the_web_server_answers_and_keeps_the_connection_open():
    port = free_port()
    server = start(port)
    try:
        connection = answering(port, server)
        # when a client sends requests one after another on one connection
        local_port = connection.sock.getsockname()[1]
        statuses = []
        for _ in range(3):
            connection.request("GET", "/api/v1/wallet/")  # no token: 401, no database needed
            response = connection.getresponse()
            response.read()
            statuses.append((response.status, response.getheader("Content-Type"), response.will_close))
        # then each is answered on the same connection, which stays open
        assert statuses == [(401, "application/problem+json", False)] * 3
        assert connection.sock is not None and connection.sock.getsockname()[1] == local_port
    finally:
        stop(server)
    assert server.returncode is not None


def test_the_web_server_refuses_to_start_when_the_unit_of_work_check_fails():
    # given a product with a signal receiver on a model the unit of work writes (core.E002)
    server = start(free_port(), DJANGO_SETTINGS_MODULE="tests.unfenced.settings")
    # when the web server starts, then it exits non-zero instead of serving, saying why
    try:
        output, _ = server.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the web server kept running:\n{stop(server)}")
    assert server.returncode != 0
    assert "core.E002" in output, output[-3000:]
