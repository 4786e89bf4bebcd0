"""A tiny stand-in for the casino's game wallet endpoints, for the game's client logic only.

It speaks HTTP on a free port, verifies every call's Standard Webhooks signature with the
`standardwebhooks` library, keeps balances per session, answers a repeated
transaction_id from its first answer (409 on another body), records a rollback of an
unseen bet so the late bet is refused, and can be steered: `stall` performs a call but
answers too late for the client's timeout (the answer is lost on the way back),
`fail` answers a status without doing anything. It is not the product: the end-to-end
tests against the real game wallet live beside the browser test.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from games.sandbox import money


@dataclass
class Seen:
    call: str
    headers: dict
    body: str
    status: int = 0


@dataclass
class FakeWallet:
    slug: str
    secret: str
    balances: dict = field(default_factory=dict)  # session -> [minor, currency]
    answers: dict = field(default_factory=dict)  # transaction_id -> (body, status, answer)
    bets: dict = field(default_factory=dict)  # transaction_id -> amount
    unseen_rollbacks: set = field(default_factory=set)
    closed_rounds: set = field(default_factory=set)
    seen: list = field(default_factory=list)
    stall: dict = field(default_factory=dict)  # call -> how many answers to hold back
    fail: dict = field(default_factory=dict)  # call -> [(status, error_code), ...] answered first
    stall_seconds: float = 0.6
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open_session(self, token: str, amount: int, currency: str = "EUR") -> str:
        self.balances[token] = [amount, currency]
        return token

    def balance_of(self, token: str) -> int:
        return self.balances[token][0]

    def calls(self, call: str | None = None) -> list[Seen]:
        return [s for s in self.seen if call is None or s.call == call]

    # -- the four calls ---------------------------------------------------------------

    def handle(self, call: str, headers: dict, raw: str) -> tuple[int, dict]:
        try:
            Webhook(self.secret).verify(raw, headers)
        except WebhookVerificationError:
            return 401, {"error_code": "SIGNATURE_INVALID", "detail": "bad signature"}
        body = json.loads(raw)
        with self.lock:
            if self.fail.get(call):
                status, code = self.fail[call].pop(0)
                return status, {"error_code": code, "detail": "steered"}
            token = body.get("session_token")
            if token not in self.balances:
                return 403, {"error_code": "GAME_SESSION_EXPIRED", "detail": "no such session"}
            if call == "balance":
                return 200, self._answer(token, None)
            tx = body["transaction_id"]
            if tx in self.answers:
                first_body, status, answer = self.answers[tx]
                if first_body != body:
                    return 409, {"error_code": "GAME_TRANSACTION_CONFLICT", "detail": "another body"}
                return status, answer
            status, answer = self._move(call, token, body)
            self.answers[tx] = (body, status, answer)
            return status, answer

    def _move(self, call: str, token: str, body: dict) -> tuple[int, dict]:
        wallet = self.balances[token]
        amount = money.to_minor(body["amount"], body["currency"])
        tx = body["transaction_id"]
        if call == "bet":
            if tx in self.unseen_rollbacks:
                return 409, {"error_code": "GAME_TRANSACTION_ROLLED_BACK", "detail": "rolled back first"}
            if body["round_id"] in self.closed_rounds:
                return 409, {"error_code": "GAME_ROUND_CLOSED", "detail": "closed"}
            if amount > wallet[0]:
                return 422, {"error_code": "INSUFFICIENT_FUNDS", "detail": "not enough money"}
            wallet[0] -= amount
            self.bets[tx] = amount
        elif call == "win":
            wallet[0] += amount
            if body.get("round_closed"):
                self.closed_rounds.add(body["round_id"])
        elif call == "rollback":
            reference = body["reference_transaction_id"]
            if reference in self.bets:
                wallet[0] += self.bets.pop(reference)
            else:
                self.unseen_rollbacks.add(reference)
        return 200, self._answer(token, tx)

    def _answer(self, token: str, tx: str | None) -> dict:
        minor, currency = self.balances[token]
        return {
            "balance": money.to_text(minor, currency),
            "currency": currency,
            "transaction_id": tx,
            "wallet_transaction_id": f"wtx-{tx}" if tx else None,
        }


class _Handler(BaseHTTPRequestHandler):
    wallet: FakeWallet
    wbufsize = 64 * 1024  # headers and body leave in one write (no Nagle / delayed-ACK pause)

    def do_POST(self):  # noqa: N802 - http.server's name
        prefix = f"/api/v1/games/{self.wallet.slug}/"
        call = self.path.removeprefix(prefix).strip("/")
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        seen = Seen(call, {k.lower(): v for k, v in self.headers.items()}, raw)
        self.wallet.seen.append(seen)
        if not self.path.startswith(prefix) or call not in ("balance", "bet", "win", "rollback"):
            status, answer = 404, {"error_code": "NOT_FOUND"}
        else:
            status, answer = self.wallet.handle(call, dict(self.headers.items()), raw)
        seen.status = status
        with self.wallet.lock:
            held = self.wallet.stall.get(call, 0)
            if held:
                self.wallet.stall[call] = held - 1
        if held:
            time.sleep(self.wallet.stall_seconds)  # done, but the answer comes after the client gave up
        payload = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass

    def log_message(self, *args):
        pass


class FakeWalletServer:
    def __init__(self, wallet: FakeWallet):
        handler = type("Handler", (_Handler,), {"wallet": wallet})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.wallet = wallet
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
