"""A tiny HTTP client on http.client: one request per connection (Connection: close)."""

import http.client
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict = field(default_factory=dict)  # lower-case names

    @property
    def replayed(self) -> bool:
        return self.headers.get("idempotent-replayed") == "true"

    def json(self) -> dict:
        try:
            value = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def error_code(self) -> str:
        return str(self.json().get("error_code", "")) if self.status >= 400 else ""

    @property
    def outcome(self) -> str:
        """e.g. "201" or "409 ILLEGAL_TRANSACTION_STATE_TRANSITION"."""
        code = self.error_code
        return f"{self.status} {code}" if code else str(self.status)


def request(
    method: str, url: str, *, body: bytes | None = None, headers: dict | None = None, timeout: float = 30.0
) -> Response:
    """Send one request; raises OSError / http.client.HTTPException on network trouble."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        all_headers = {"Connection": "close", "Accept": "application/json", **(headers or {})}
        if body is not None:
            all_headers.setdefault("Content-Type", "application/json")
        connection.request(method, path, body=body, headers=all_headers)
        answer = connection.getresponse()
        data = answer.read()
        return Response(answer.status, data, {k.lower(): v for k, v in answer.getheaders()})
    finally:
        connection.close()


def dumps(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
