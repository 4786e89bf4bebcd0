"""One call to the casino's game wallet API, signed, with its retries.

What is retried, and how: a call that got no answer (a timeout, a dropped connection),
a 5xx or a 429 is sent again, the same body under the same transaction_id and
`webhook-id` (only the signature's timestamp is new), after a short backoff; the
casino answers a repeated transaction with its first answer and does nothing twice. Any
other 4xx is the casino's decision (a refusal, a bad signature, a conflict) and is
final: the call is not sent again. After the last attempt without an answer the caller
gets `WalletUnreachable` and decides (a bet is rolled back, a win is resent later).
"""

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from .providers import Provider
from .signing import new_message_id, signed_headers

RETRY_STATUSES = {429}
Transport = Callable[[str, dict, str, float], tuple[int, dict]]


class WalletUnreachable(Exception):
    """No final answer after every attempt: the call may or may not have reached the casino."""


class WalletRefused(Exception):
    """The casino answered 4xx: a final refusal (problem+json with `error_code`)."""

    def __init__(self, status: int, answer: dict):
        self.status = status
        self.answer = answer
        self.error_code = str(answer.get("error_code") or f"HTTP_{status}")
        super().__init__(f"{status} {self.error_code}: {answer.get('detail', '')}")


def http_transport(url: str, headers: dict, body: str, timeout: float) -> tuple[int, dict]:
    """POST `body`; (status, parsed JSON answer). Network trouble raises OSError or HTTPException."""
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) from config only
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        answer = {}
    return status, answer if isinstance(answer, dict) else {}


class WalletClient:
    def __init__(
        self,
        provider: Provider,
        *,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: tuple[float, ...] = (0.2, 0.5, 1.0),
        transport: Transport = http_transport,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.provider = provider
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff or (0.0,)
        self.transport = transport
        self.sleep = sleep

    def post(self, call: str, body: str, *, message_id: str, on_attempt: Callable[[], None] | None = None) -> dict:
        """Send `body` to `<api>/<call>/` until a final answer; the 2xx answer, or raise."""
        url = self.provider.endpoint(call)
        problem = "no attempt made"
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.backoff[min(attempt - 1, len(self.backoff) - 1)])
            if on_attempt:
                on_attempt()
            headers = signed_headers(self.provider.secret, message_id, body)
            try:
                status, answer = self.transport(url, headers, body, self.timeout)
            except (OSError, http.client.HTTPException) as error:  # timeouts and dropped connections included
                problem = f"{type(error).__name__}: {error}"
                continue
            if 200 <= status < 300 and "balance" in answer:
                return answer
            if 400 <= status < 500 and status not in RETRY_STATUSES:
                raise WalletRefused(status, answer)
            problem = f"HTTP {status}"
        raise WalletUnreachable(f"{call} to {url}: {problem} after {self.attempts} attempts")

    def balance(self, session_token: str) -> dict:
        """The player's balance and currency for the session (`balance/` moves nothing)."""
        body = json.dumps({"session_token": session_token}, separators=(",", ":"))
        return self.post("balance", body, message_id=new_message_id())
