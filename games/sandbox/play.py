"""A spin, from the provider's side: bet, outcome, win; and what happens when calls go unanswered.

A round is one bet and one win with `"round_closed": true`. A losing spin closes its
round with a win of zero (`losing_rounds="zero-win"`, the default), so the casino's round
is settled at once and every round appears in both sides' records; with
`losing_rounds="idle"` nothing is sent after a losing bet and the casino closes the round
after its idle time.

When the casino does not answer (timeouts, 5xx), the client has already retried the same
transaction. Then:
- an unanswered **bet** is never resent: the game rolls it back (a rollback referencing
  the bet's transaction_id). If the bet did land, the rollback returns the stake; if it
  did not, the casino records the rollback so that the late bet is refused;
- an unanswered **win** or **rollback** is money owed to the player: it stays pending and
  the background resender (`resend_due`, every second in the server) sends the same body
  again with backoff until the casino answers.
"""

import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from . import money, rng
from .client import Transport, WalletClient, WalletRefused, WalletUnreachable, http_transport
from .providers import Provider, Providers
from .store import LEASE, Call, Store, iso, now

log = logging.getLogger("sandbox_game")

LOSING_ROUNDS = ("zero-win", "idle")
MAX_RESENDS = 30  # about two hours of backoff capped at five minutes
RESEND_BASE_SECONDS = 2.0
RESEND_CAP_SECONDS = 300.0


class UnknownProvider(Exception):
    """The launch URL names a provider account the game is not configured for."""


@dataclass
class SpinResult:
    round_id: str
    currency: str
    bet: int
    state: str  # won, lost, open (idle close), win_pending, refused, rolled_back, rollback_pending
    reels: tuple[str, ...] = ()
    multiplier: int = 0
    win: int = 0
    balance: str | None = None
    error_code: str | None = None
    detail: str = ""
    problem: dict = field(default_factory=dict)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


class Game:
    def __init__(
        self,
        providers: Providers,
        store: Store,
        *,
        seed: str | None = None,
        losing_rounds: str = "zero-win",
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: tuple[float, ...] = (0.2, 0.5, 1.0),
        transport: Transport = http_transport,
    ):
        if losing_rounds not in LOSING_ROUNDS:
            raise ValueError(f"losing_rounds must be one of {', '.join(LOSING_ROUNDS)}")
        self.providers = providers
        self.store = store
        self.seed = seed or rng.new_seed()
        self.losing_rounds = losing_rounds
        self.client_options = {"timeout": timeout, "attempts": attempts, "backoff": backoff, "transport": transport}

    def provider(self, slug: str) -> Provider:
        provider = self.providers.get(slug)
        if provider is None:
            raise UnknownProvider(slug)
        return provider

    def client(self, provider: Provider, **overrides) -> WalletClient:
        return WalletClient(provider, **{**self.client_options, **overrides})

    def balance(self, slug: str, session_token: str) -> dict:
        return self.client(self.provider(slug)).balance(session_token)

    # -- a spin -----------------------------------------------------------------------

    def spin(self, slug: str, session_token: str, *, bet: int, currency: str) -> SpinResult:
        """Play one round of `bet` minor units. Refusals and silences come back in the result."""
        provider = self.provider(slug)
        if bet <= 0:
            raise ValueError("the bet must be positive")
        round_id = new_id("rnd")
        result = SpinResult(round_id=round_id, currency=currency, bet=bet, state="betting")
        self.store.add_round(
            round_id=round_id,
            provider=slug,
            session_token=session_token,
            currency=currency,
            bet=bet,
            seed=self.seed,
            state="betting",
        )
        bet_call = self._new_call(provider, "bet", round_id, session_token, bet, currency)
        try:
            answer = self._send(provider, bet_call)
        except WalletRefused as refusal:
            return self._finish(result, "refused", error=refusal)
        except WalletUnreachable as silence:
            log.warning("bet %s unanswered, rolling it back: %s", bet_call.transaction_id, silence)
            return self._roll_back(provider, bet_call, result)
        result.balance = answer["balance"]

        spun = rng.outcome(self.seed, round_id)
        result.reels, result.multiplier, result.win = spun.reels, spun.multiplier, spun.win(bet)
        self.store.update_round(round_id, reels=",".join(spun.reels), multiplier=spun.multiplier, win=result.win)
        if result.win == 0 and self.losing_rounds == "idle":
            return self._finish(result, "open")
        win_call = self._new_call(provider, "win", round_id, session_token, result.win, currency, round_closed=True)
        try:
            answer = self._send(provider, win_call)
        except WalletRefused as refusal:
            log.error("win %s refused: %s", win_call.transaction_id, refusal)
            return self._finish(result, "win_refused", error=refusal)
        except WalletUnreachable as silence:
            log.warning("win %s unanswered, resending later: %s", win_call.transaction_id, silence)
            self._resend_later(win_call)
            return self._finish(result, "win_pending", error_code="CASINO_UNREACHABLE")
        result.balance = answer["balance"]
        return self._finish(result, "won" if result.win else "lost")

    def _roll_back(self, provider: Provider, bet_call: Call, result: SpinResult) -> SpinResult:
        self.store.set_status(bet_call.transaction_id, "unresolved")
        rollback = self._new_call(
            provider,
            "rollback",
            bet_call.round_id,
            bet_call.session_token,
            bet_call.amount,
            bet_call.currency,
            reference=bet_call.transaction_id,
        )
        try:
            answer = self._send(provider, rollback)
        except WalletRefused as refusal:
            log.error("rollback %s refused: %s", rollback.transaction_id, refusal)
            return self._finish(result, "rollback_refused", error=refusal)
        except WalletUnreachable:
            self._resend_later(rollback)
            return self._finish(result, "rollback_pending", error_code="CASINO_UNREACHABLE")
        result.balance = answer["balance"]
        return self._finish(result, "rolled_back", error_code="CASINO_UNREACHABLE")

    def _finish(self, result: SpinResult, state: str, *, error: WalletRefused | None = None, error_code=None):
        result.state = state
        if error is not None:
            result.error_code, result.problem = error.error_code, error.answer
            result.detail = str(error.answer.get("detail", ""))
        elif error_code:
            result.error_code = error_code
        self.store.update_round(result.round_id, state=state, error_code=result.error_code)
        return result

    # -- calls ------------------------------------------------------------------------

    def _new_call(
        self,
        provider: Provider,
        kind: str,
        round_id: str,
        session_token: str,
        amount: int,
        currency: str,
        *,
        round_closed: bool = False,
        reference: str | None = None,
    ) -> Call:
        """Record the call, with the exact body every attempt will send, before it is sent."""
        transaction_id = new_id(kind)
        fields = {
            "session_token": session_token,
            "transaction_id": transaction_id,
            "round_id": round_id,
            "amount": money.to_text(amount, currency),
            "currency": currency,
        }
        if round_closed:
            fields["round_closed"] = True
        if reference:
            fields["reference_transaction_id"] = reference
        moment = now()
        call = Call(
            transaction_id=transaction_id,
            provider=provider.slug,
            kind=kind,
            round_id=round_id,
            session_token=session_token,
            amount=amount,
            currency=currency,
            reference_transaction_id=reference,
            message_id=transaction_id,
            body=json.dumps(fields, separators=(",", ":")),
            status="pending",
            attempts=0,
            http_status=None,
            error_code=None,
            balance=None,
            wallet_transaction_id=None,
            created_at=iso(moment),
            answered_at=None,
            next_attempt_at=iso(moment + LEASE),  # this spin holds it; the resender waits
        )
        self.store.add_call(call)
        return call

    def _send(self, provider: Provider, call: Call, **client_overrides) -> dict:
        """Send the stored body; record a final answer (200 or 4xx); re-raise what the caller decides."""
        client = self.client(provider, **client_overrides)
        try:
            answer = client.post(
                call.kind,
                call.body,
                message_id=call.message_id,
                on_attempt=lambda: self.store.record_attempt(call.transaction_id),
            )
        except WalletRefused as refusal:
            self.store.record_answer(
                call.transaction_id, status="refused", http_status=refusal.status, answer=refusal.answer
            )
            raise
        self.store.record_answer(call.transaction_id, status="ok", http_status=200, answer=answer)
        return answer

    def _resend_later(self, call: Call) -> None:
        attempts = (self.store.call(call.transaction_id) or call).attempts
        if attempts >= MAX_RESENDS:
            log.error("%s %s given up after %s attempts", call.kind, call.transaction_id, attempts)
            self.store.set_status(call.transaction_id, "failed")
            return
        delay = min(RESEND_BASE_SECONDS * 2 ** max(attempts - 1, 0), RESEND_CAP_SECONDS)
        self.store.set_status(call.transaction_id, "pending", next_attempt_at=now() + timedelta(seconds=delay))

    def resend_due(self) -> int:
        """Send again the wins and rollbacks still owed; roll back bets a crash left unanswered.

        Returns how many calls got their final answer in this pass.
        """
        settled = 0
        for call in self.store.claim_due():
            provider = self.providers.get(call.provider)
            if provider is None:
                self._resend_later(call)
                continue
            if call.kind == "bet":  # the spin that sent it is gone: never resend a bet, roll it back
                result = SpinResult(round_id=call.round_id, currency=call.currency, bet=call.amount, state="")
                self._roll_back(provider, call, result)
                settled += 1
                continue
            try:
                self._send(provider, call, attempts=1)
            except WalletRefused:
                settled += 1
                self.store.update_round(call.round_id, state=f"{call.kind}_refused")
                continue
            except WalletUnreachable:
                self._resend_later(call)
                continue
            settled += 1
            if call.kind == "rollback":
                self.store.update_round(call.round_id, state="rolled_back")
            else:
                self.store.update_round(call.round_id, state="won" if call.amount else "lost", error_code=None)
        return settled
