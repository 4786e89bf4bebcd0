"""A simulated client: plays its players' (and their operators') schedule over HTTP.

Like a real client it sends every money POST with an Idempotency-Key and retries
network errors, 5xx (503 SERVICE_UNAVAILABLE when the database dropped) and 409
IDEMPOTENCY_REQUEST_IN_PROGRESS with the same key and body. Refusals (409, 422) are
outcomes, counted per operation. About 20% of money operations are sent twice on
purpose, after the answer or as a concurrent twin; the second answer must be the
first one byte for byte, marked `Idempotent-Replayed: true`.
"""

import http.client
import random
import threading
import time
from dataclasses import dataclass

from . import schedule as s
from . import spec
from .disputes import DisputePlay
from .games import GamePlay
from .httpio import Response, dumps, request
from .stats import Stats

IN_PROGRESS = "IDEMPOTENCY_REQUEST_IN_PROGRESS"
ILLEGAL = "409 ILLEGAL_TRANSACTION_STATE_TRANSITION"
FOUR_EYES = "409 FOUR_EYES_VIOLATION"
LIMIT = "422 TENANT_PAYMENT_LIMIT_EXCEEDED"
# The player's own protections refuse deposits (and KYC withdrawals); the invariants prove each was right.
PROTECTED = {"422 PLAYER_LIMIT_EXCEEDED", "403 PLAYER_EXCLUDED", "403 KYC_REQUIRED"}
# A chargeback the player's money could not cover: no withdrawals, approvals, payments by hand or play.
RESTRICTED = "403 PLAYER_ACCOUNT_RESTRICTED"

# Answers that are outcomes of the operation; anything else is reported as a violation.
EXPECTED = {
    s.DEPOSIT_PAY: {"201", LIMIT, *PROTECTED},
    s.DEPOSIT_FAIL: {"201", LIMIT, *PROTECTED},
    s.DEPOSIT_ABANDON: {"201", LIMIT, *PROTECTED},
    s.WITHDRAW: {"201", "422 INSUFFICIENT_FUNDS", LIMIT, "403 KYC_REQUIRED", "422 CLOSED_LOOP_VIOLATION", RESTRICTED},
    s.CANCEL: {"200", ILLEGAL, "403 WITHDRAWAL_CANCEL_DISABLED"},
    s.APPROVE: {"200", ILLEGAL, FOUR_EYES, RESTRICTED},
    s.REJECT: {"200", ILLEGAL},
    s.MARK_PAID: {"200", ILLEGAL, FOUR_EYES, RESTRICTED},
    s.RETRY_PAYOUT: {"200", ILLEGAL, "409 PAYOUT_COOLDOWN_ACTIVE", "409 PAYOUT_RETRY_LIMIT_REACHED", RESTRICTED},
    s.READ: {"200"},
    s.FOREIGN_DECIDE: {"404 NOT_FOUND"},
    s.FOREIGN_CANCEL: {"404 NOT_FOUND"},
    "checkout": {"200"},
    s.SET_LIMIT: {"200"},
    s.TAKE_BREAK: {"201", "409 EXCLUSION_WOULD_SHORTEN"},
    s.VERIFY_KYC: {"200"},
    # Game traffic (simulation/games.py): the player starts a session, the provider's server calls.
    "game_session": {"201", "403 PLAYER_EXCLUDED", RESTRICTED},
    "game_bet": {"200", "422 INSUFFICIENT_FUNDS", "403 PLAYER_EXCLUDED", "422 PLAYER_LIMIT_EXCEEDED", RESTRICTED},
    "game_conflict": {"409 GAME_TRANSACTION_CONFLICT"},
    "game_bet_late": {"409 GAME_TRANSACTION_ROLLED_BACK"},
    "game_bet_expired": {"403 GAME_SESSION_EXPIRED"},
    "game_bet_excluded": {"403 PLAYER_EXCLUDED"},
    # a win lands (after expiry and exclusion too); a round whose bet was refused is unknown
    "game_win": {"200", "409 GAME_ROUND_UNKNOWN"},
    "game_rollback": {"200"},
    # The PSP's side (simulation/disputes.py): its own API answers 200, or 409 for a step the
    # payment or payout is not ready for (a payment reversed before its chargeback reached it).
    s.CHARGEBACK: {"200"},
    s.REVERSE_CHARGEBACK: {"200"},
    s.SECOND_CHARGEBACK: {"200"},
    s.RETURN_PAYOUT: {"200"},
    "snapshot": {"200"},
}
OPERATOR_PATHS = {s.APPROVE: "approve", s.REJECT: "reject", s.MARK_PAID: "mark-paid", s.RETRY_PAYOUT: "retry-payout"}
SERVER_ERROR_RETRIES = 3
# What players pay with at the checkout (ARCHITECTURE 16): one instrument per kind and player.
METHOD_KINDS = ("card", "card", "bank_account", "ewallet")


@dataclass
class World:
    """Where the product is and who may call it."""

    seed: int
    web_url: str
    player_tokens: list[str]
    operator_tokens: list[list[str]]  # [tenant][operator]
    player_ids: list[int]  # the database ids, for the operator API's player endpoints
    game_providers: list[tuple[str, str, int]]  # [tenant] -> (provider slug, signing secret, game id)
    psp_url: str = ""  # the sandbox PSP's API, for what the PSP's side does (chargebacks, returns)
    psp_keys: list[str] | None = None  # [tenant] -> the merchant's API key there

    def operator_token(self, player: int, operator: int) -> str:
        return self.operator_tokens[spec.tenant_of_player(player)][operator]


class Api:
    """Sending with a real client's retries; shared by the clients and the drain."""

    def __init__(self, world: World, stats: Stats, retry_window: float = 120.0):
        self.world, self.stats, self.retry_window = world, stats, retry_window
        self.jitter = random.Random()  # back-off jitter only; never part of the schedule

    def send(self, method: str, url: str, *, token: str = "", key: str = "", body: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Token {token}"
        if key:
            headers["Idempotency-Key"] = key
        deadline = time.monotonic() + self.retry_window
        delay, server_errors = 0.05, 0
        while True:
            self.stats.sent()
            try:
                answer = request(method, url, body=body, headers=headers)
                reason = _retry_reason(answer)
            except (OSError, http.client.HTTPException) as error:
                answer, reason = None, f"network error ({type(error).__name__})"
            if answer is not None and answer.status == 500:
                server_errors += 1
                self.stats.violation(
                    "unexpected_response", f"{method} {url} -> {answer.outcome}: {answer.body[:300]!r}"
                )
                if server_errors > SERVER_ERROR_RETRIES:
                    return answer
            if reason is None:
                return answer
            self.stats.retry(reason)
            if time.monotonic() > deadline:
                self.stats.violation(
                    "client_gave_up", f"{method} {url}: still {reason} after {self.retry_window:.0f} s"
                )
                return None
            time.sleep(delay * (0.5 + self.jitter.random()))
            delay = min(delay * 2, 1.0)

    def post_json(self, url: str, payload: dict, *, token: str = "", key: str = ""):
        return self.send("POST", url, token=token, key=key, body=dumps(payload))

    def post_json_with(self, url: str, payload: dict, *, headers: dict):
        return self.send("POST", url, body=dumps(payload), headers=headers)


def _retry_reason(answer: Response) -> str | None:
    if answer.status >= 500 or answer.status == 429:
        return answer.outcome
    if answer.status == 409 and answer.error_code == IN_PROGRESS:
        return answer.outcome
    return None


@dataclass(frozen=True)
class Answered:
    """A money request and the answer the client kept: replayed again after the run."""

    url: str
    token: str
    key: str
    body: bytes
    status: int
    answer: bytes


class Client(GamePlay, DisputePlay, Api):
    def __init__(self, world: World, ops: list[s.Op], stats: Stats, stop: threading.Event):
        super().__init__(world, stats)
        self.ops, self.stop = ops, stop
        self.withdrawals: dict[int, tuple[str, int]] = {}  # the client's withdrawal number -> (id, player)
        self.paid_deposits: dict[int, tuple[str, str]] = {}  # paid-deposit number -> (id, PSP payment id)
        self.answered: list[Answered] = []
        self.done = 0

    def run(self) -> None:
        for op in self.ops:
            if self.stop.is_set():
                return
            outcome = getattr(self, f"_{op.kind}")(op)
            self.stats.op(op.kind, outcome)
            self.done += 1

    def _withdrawal(self, ref: int, player: int, *, same_player: bool = False) -> str | None:
        """The client's withdrawal number `ref`; if the product refused that one, the nearest earlier
        one of the same tenant (of the same player for a cancel), so the actors stay the right ones."""
        tenant = spec.tenant_of_player(player)
        for number in range(ref, -1, -1):
            found = self.withdrawals.get(number)
            if found is None:
                continue
            if found[1] == player or (not same_player and spec.tenant_of_player(found[1]) == tenant):
                return found[0]
        return None

    # -- operations ---------------------------------------------------------------------

    def _deposit(self, op: s.Op, pay: str | None) -> str:
        token = self.world.player_tokens[op.player]
        answer = self._money_post(op, "/api/v1/deposits/", {"amount": op.amount, "currency": op.currency}, token)
        outcome = self._classify(op.kind, answer, op)
        created = answer.json() if answer is not None and answer.status == 201 else {}
        checkout_url = created.get("checkout_url")
        if pay and checkout_url and self._checkout(op, checkout_url, pay) and op.deposit >= 0:
            payment_id = created.get("provider_reference") or checkout_url.rstrip("/").rsplit("/", 1)[-1]
            self.paid_deposits[op.deposit] = (created["id"], payment_id)
        return outcome

    def _deposit_pay(self, op):
        return self._deposit(op, "paid")

    def _deposit_fail(self, op):
        return self._deposit(op, "failed")

    def _deposit_abandon(self, op):
        return self._deposit(op, None)  # left open at the PSP; the drain fails it

    def _checkout(self, op: s.Op, url: str, outcome: str) -> bool:
        """Pay (or fail) at the PSP's checkout; True if the PSP took that outcome."""
        choice = {"method": METHOD_KINDS[op.index % len(METHOD_KINDS)]} if outcome == "paid" else {}
        answer = self.post_json(url, {"outcome": outcome, **choice})
        self._classify("checkout", answer, op)
        if answer is not None and answer.status == 200 and answer.json().get("status") != outcome:
            self.stats.violation("unexpected_response", f"checkout {url} answered {answer.body[:200]!r}")
            return False
        return answer is not None and answer.status == 200

    def _destination(self, op: s.Op) -> dict:
        """The payment method a withdrawal names, none if the player has none: mostly the one that brought
        the most into the currency (as a player would pick), every fourth step one chosen by the step,
        which the closed loop may refuse (422 CLOSED_LOOP_VIOLATION, an outcome).

        Payment methods appear when deposits complete, which the PSP's webhooks decide: the list is
        read right before each withdrawal.
        """
        answer = self.send("GET", f"{self.world.web_url}/api/v1/payment-methods/", token=self._token(op))
        if answer is None or answer.status != 200:
            return {}
        methods = [m for m in answer.json()["payment_methods"] if m["payout_capable"]]
        if not methods:
            return {}
        if op.index % 4 == 0:
            return {"payment_method": methods[op.index % len(methods)]["id"]}

        def brought(method) -> float:
            return max((float(n["amount"]) for n in method["net_deposited"] if n["currency"] == op.currency), default=0)

        return {"payment_method": max(methods, key=brought)["id"]}

    def _withdraw(self, op: s.Op) -> str:
        token = self.world.player_tokens[op.player]
        body = {"amount": op.amount, "currency": op.currency, **self._destination(op)}
        answer = self._money_post(op, "/api/v1/withdrawals/", body, token)
        if _needs_destination(answer):  # a deposit completed between the read and the request
            body = {**body, **self._destination(op)}
            answer = self._money_post(op, "/api/v1/withdrawals/", body, token, key_suffix="-m")
        if answer is not None and answer.status == 201:
            self.withdrawals[op.ref] = (answer.json()["id"], op.player)
        return self._classify(op.kind, answer, op)

    def _burst(self, op: s.Op, path: str, what: str) -> list[Response | None]:
        """`op.count` requests of the same player at once, each its own intent (its own key)."""
        url, token = self.world.web_url + path, self.world.player_tokens[op.player]
        destination = self._destination(op) if what == s.WITHDRAW else {}
        body = dumps({"amount": op.amount, "currency": op.currency, **destination})
        answers: list[Response | None] = [None] * op.count

        def one(n: int) -> None:
            key, sent = f"{op.key(self.world.seed)}-b{n}", body
            answers[n] = self.send("POST", url, token=token, key=key, body=sent)
            if _needs_destination(answers[n]):  # a deposit completed between the read and the request
                key, sent = f"{key}-m", dumps({"amount": op.amount, "currency": op.currency, **self._destination(op)})
                answers[n] = self.send("POST", url, token=token, key=key, body=sent)
            self._keep(url, token, key, sent, answers[n])

        threads = [threading.Thread(target=one, args=(n,)) for n in range(op.count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for answer in answers:
            self._classify(what, answer, op)
        return answers

    def _deposit_burst(self, op: s.Op) -> str:
        answers = self._burst(op, "/api/v1/deposits/", s.DEPOSIT_PAY)
        for answer in answers:
            if answer is not None and answer.status == 201 and answer.json().get("checkout_url"):
                self._checkout(op, answer.json()["checkout_url"], "paid")
        return _joined(answers)

    def _withdraw_burst(self, op: s.Op) -> str:
        return _joined(self._burst(op, "/api/v1/withdrawals/", s.WITHDRAW))

    def _cancel(self, op: s.Op) -> str:
        withdrawal = self._withdrawal(op.ref, op.player, same_player=True)
        if withdrawal is None:  # every withdrawal of this player was refused: the player looks at the history
            answer = self.send(
                "GET", f"{self.world.web_url}/api/v1/transactions/?type=withdrawal", token=self._token(op)
            )
            return f"nothing to cancel, history read: {self._classify(s.READ, answer, op)}"
        path = f"/api/v1/withdrawals/{withdrawal}/cancel/"
        answer = self._money_post(op, path, {"reason": "Changed my mind"}, self.world.player_tokens[op.player])
        return self._classify(op.kind, answer, op)

    def _decide(self, op: s.Op) -> str:
        withdrawal = self._withdrawal(op.ref, op.player)
        if withdrawal is None:
            return self._queue_instead(op)
        path = f"/api/v1/admin/withdrawals/{withdrawal}/{OPERATOR_PATHS[op.kind]}/"
        reason = f"Simulation: {op.kind} by {spec.OPERATOR_NAMES[op.operator]} (client {op.client}, step {op.index})"
        answer = self._money_post(op, path, {"reason": reason}, self.world.operator_token(op.player, op.operator))
        return self._classify(op.kind, answer, op)

    _approve = _reject = _mark_paid = _retry_payout = _decide

    def _queue_instead(self, op: s.Op) -> str:
        """No withdrawal of the tenant yet (all refused): the operator reads the review queue."""
        operator = max(op.operator, 0)
        token = self.world.operator_token(op.player, operator)
        url = f"{self.world.web_url}/api/v1/admin/withdrawals/?state=requested&page_size=20"
        return f"nothing to decide, queue read: {self._classify(s.READ, self.send('GET', url, token=token), op)}"

    def _token(self, op: s.Op) -> str:
        return self.world.player_tokens[op.player]

    def _foreign_decide(self, op: s.Op) -> str:
        """An operator of another tenant tries to approve: 404, as if the withdrawal did not exist."""
        withdrawal = self._withdrawal(op.ref, op.player)
        if withdrawal is None:
            return self._queue_instead(op)
        url = f"{self.world.web_url}/api/v1/admin/withdrawals/{withdrawal}/approve/"
        token = self.world.operator_tokens[op.foreign][op.operator]
        answer = self.post_json(url, {"reason": "Not my tenant"}, token=token, key=op.key(self.world.seed))
        return self._classify(op.kind, answer, op)

    def _foreign_cancel(self, op: s.Op) -> str:
        """A player of another tenant tries to cancel it: 404."""
        withdrawal = self._withdrawal(op.ref, op.player)
        if withdrawal is None:
            return self._queue_instead(op)
        url = f"{self.world.web_url}/api/v1/withdrawals/{withdrawal}/cancel/"
        token = self.world.player_tokens[op.foreign]
        answer = self.post_json(url, {}, token=token, key=op.key(self.world.seed))
        return self._classify(op.kind, answer, op)

    def _set_limit(self, op: s.Op) -> str:
        body = {"currency": op.currency, "kind": "deposit", "period": op.period, "amount": op.amount or None}
        url, token = f"{self.world.web_url}/api/v1/limits/", self.world.player_tokens[op.player]
        answer = self.send("PUT", url, token=token, key=op.key(self.world.seed), body=dumps(body))
        return self._classify(op.kind, answer, op)

    def _take_break(self, op: s.Op) -> str:
        url, token = f"{self.world.web_url}/api/v1/exclusions/", self.world.player_tokens[op.player]
        answer = self.post_json(url, {"kind": "timeout", "days": 1}, token=token, key=op.key(self.world.seed))
        return self._classify(op.kind, answer, op)

    def _verify_kyc(self, op: s.Op) -> str:
        url = f"{self.world.web_url}/api/v1/admin/players/{self.world.player_ids[op.player]}/kyc/"
        body = {
            "status": "verified",
            "reason": "Passport and proof of address checked",
            "document_ref": f"SIM-{op.player}",
        }
        token = self.world.operator_token(op.player, op.operator)
        answer = self.post_json(url, body, token=token, key=op.key(self.world.seed))
        return self._classify(op.kind, answer, op)

    def _read(self, op: s.Op) -> str:
        token = self.world.player_tokens[op.player]
        outcomes = []
        for path in ("/api/v1/wallet/", "/api/v1/transactions/?limit=10"):
            outcomes.append(self._classify(op.kind, self.send("GET", self.world.web_url + path, token=token), op))
        return max(outcomes, key=lambda outcome: outcome != "200")

    # -- idempotency checks -------------------------------------------------------------

    def _money_post(self, op: s.Op, path: str, payload: dict, token: str, key_suffix: str = "") -> Response | None:
        url, body, key = self.world.web_url + path, dumps(payload), op.key(self.world.seed) + key_suffix
        if op.replay == "concurrent":
            twin: list[Response | None] = []

            def send_twin() -> None:
                twin.append(self.send("POST", url, token=token, key=key, body=body))

            thread = threading.Thread(target=send_twin)
            thread.start()
            first = self.send("POST", url, token=token, key=key, body=body)
            thread.join()
            self._check_twins(op, first, twin[0] if twin else None)
        else:
            first = self.send("POST", url, token=token, key=key, body=body)
        self._keep(url, token, key, body, first)
        if op.replay == "sequential" and _stored(first):
            again = self.send("POST", url, token=token, key=key, body=body)
            self._check_replay(op, first, again)
        if op.replay == "reuse" and _stored(first):
            other = dumps(_different(payload))
            again = self.send("POST", url, token=token, key=key, body=other)
            if again is not None and again.outcome == "422 IDEMPOTENCY_KEY_REUSED":
                self.stats.replay("same key, other body: refused (422 IDEMPOTENCY_KEY_REUSED)")
            elif again is not None:
                self.stats.violation(
                    "replay_mismatch",
                    f"{op.kind} key {key} sent with another body: {again.outcome} {again.body[:160]!r}",
                )
        return first

    def _keep(self, url: str, token: str, key: str, body: bytes, answer: Response | None) -> None:
        if _stored(answer):
            self.answered.append(Answered(url, token, key, body, answer.status, answer.body))

    def _check_replay(self, op: s.Op, first: Response, again: Response | None) -> None:
        if again is None:
            return
        if again.replayed and (again.status, again.body) == (first.status, first.body):
            self.stats.replay("sequential replays identical")
            return
        self.stats.violation(
            "replay_mismatch",
            f"{op.kind} key {op.key(self.world.seed)}: first {first.outcome} {first.body[:160]!r}, "
            f"again {again.outcome} replayed={again.replayed} {again.body[:160]!r}",
        )

    def _check_twins(self, op: s.Op, one: Response | None, other: Response | None) -> None:
        if one is None or other is None:
            return
        same = (one.status, one.body) == (other.status, other.body)
        if same and not _stored(one):
            # a refusal before the money act (403 KYC_REQUIRED, 404) is not stored: each twin is refused alike
            self.stats.replay("concurrent twins both refused, nothing stored")
            return
        if same and (one.replayed or other.replayed):
            self.stats.replay("concurrent twins identical")
            return
        problem = "both executed" if same else "answers differ"
        self.stats.violation(
            "replay_mismatch",
            f"{op.kind} key {op.key(self.world.seed)} ({problem}): {one.outcome} replayed={one.replayed} "
            f"{one.body[:160]!r} / {other.outcome} replayed={other.replayed} {other.body[:160]!r}",
        )

    def _classify(self, what: str, answer: Response | None, op: s.Op) -> str:
        if answer is None:
            return "gave up"
        outcome = answer.outcome
        if outcome not in EXPECTED[what] and answer.status != 500:  # a 500 was reported when it came
            self.stats.violation(
                "unexpected_response",
                f"{what} (client {op.client}, step {op.index}) -> {outcome}: {answer.body[:300]!r}",
            )
        return outcome


def _stored(answer: Response | None) -> bool:
    """An answer the idempotency store keeps and must replay: 2xx, 409 and 422 outcomes."""
    if answer is None or answer.error_code in (IN_PROGRESS, "IDEMPOTENCY_KEY_REUSED"):
        return False
    return answer.status < 400 or answer.status in (409, 422)


def _different(payload: dict) -> dict:
    """The same intent's body with one field changed."""
    if "amount" in payload:
        currency = next(c for t in spec.TENANTS for c in t.currencies if c.code == payload["currency"])
        minor = int(payload["amount"].replace(".", "")) + 1
        return {**payload, "amount": currency.text(minor)}
    return {**payload, "reason": payload.get("reason", "") + " (changed)"}


def _needs_destination(answer: Response | None) -> bool:
    """400: the player has a payment method now and the request named none."""
    if answer is None or answer.outcome != "400 VALIDATION_ERROR":
        return False
    return "payment_method" in (answer.json().get("errors") or {})


def _joined(answers: list[Response | None]) -> str:
    return " + ".join(sorted("gave up" if a is None else a.outcome for a in answers))


def replay_later(api: Api, answered: list[Answered], stats: Stats, workers: int = 8) -> None:
    """Send kept money requests again after the run: each must replay its stored answer exactly."""
    pending = list(answered)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                if not pending:
                    return
                kept = pending.pop()
            again = api.send("POST", kept.url, token=kept.token, key=kept.key, body=kept.body)
            if again is None:
                continue
            if again.replayed and (again.status, again.body) == (kept.status, kept.answer):
                stats.replay("replayed again after the run, identical")
            else:
                stats.violation(
                    "replay_mismatch",
                    f"after the run, key {kept.key}: first {kept.status} {kept.answer[:160]!r}, now "
                    f"{again.outcome} replayed={again.replayed} {again.body[:160]!r}",
                )

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
