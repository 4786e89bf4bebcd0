"""Game traffic: the simulation plays the game provider's part against the game wallet.

Each tenant has a game provider account (made in setup through games.providers, as the
console does) and one game. A `game` operation starts a session as the player
(`POST /api/v1/games/sessions/`) and then, as the provider's server, sends signed calls
(`POST /api/v1/games/<slug>/{bet,win,rollback}/`, Standard Webhooks signatures with the
account's secret) in one of these scenarios, picked by the schedule:

- `concurrent`: four bets at once on the player's wallet (each its own round), then a win
  closing each round;
- `duplicate`: a bet sent again with the same body (must replay the first answer byte for
  byte, `Idempotent-Replayed: true`), a bet sent twice at once (one is the replay), the same
  `transaction_id` with another amount (409 GAME_TRANSACTION_CONFLICT), the win sent twice;
- `rollback_first`: a rollback of a bet the casino has not seen (200, nothing moves), then
  that bet (409 GAME_TRANSACTION_ROLLED_BACK) and the bet again (the same refusal, replayed);
- `bet_and_rollback`: a bet, its rollback, a second rollback of it under another id (200, no effect);
- `expired`: a bet, then the session expires (its `expires_at` moved into the past, as four
  hours would); a bet is refused (403 GAME_SESSION_EXPIRED) and the round's win lands;
- `excluded`: a bet, then the player takes a break; a bet is refused (403 PLAYER_EXCLUDED)
  and the round's win lands.

Amounts come from a generator seeded with the operation's key, so a seed replays them.
Every call has its own `transaction_id` derived from the operation's key; retries (5xx,
network errors) resend the same body.
"""

import base64
import hashlib
import hmac
import random
import threading
import time
import uuid

from . import spec
from .httpio import Response, dumps

CONCURRENT_BETS = 4


def signed_headers(secret: str, body: bytes) -> dict:
    msg_id, stamp = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }


def expire_session(token: str) -> None:
    """Four hours pass for this session: its expires_at moves into the past (the simulation's clock)."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from core.api_keys import digest_of
    from games.models import GameSession

    try:
        GameSession.objects.filter(token_digest=digest_of(token)).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    finally:
        connection.close()


class GamePlay:
    """Mixed into the simulation's Client: the `game` operation."""

    def _game(self, op) -> str:
        tenant = spec.TENANTS[spec.tenant_of_player(op.player)]
        currency = tenant.currency(op.currency)
        slug, secret, game_id = self.world.game_providers[spec.tenant_of_player(op.player)]
        url = f"{self.world.web_url}/api/v1/games/sessions/"
        started = self.post_json(
            url, {"game": game_id, "currency": op.currency}, token=self.world.player_tokens[op.player]
        )
        outcome = self._classify("game_session", started, op)
        if started is None or started.status != 201:
            return f"session {outcome}"
        call = _Calls(self, op, slug, secret, started.json()["session_token"], currency)
        getattr(call, op.scenario)()
        return f"{op.scenario}: " + " ".join(call.outcomes)


class _Calls:
    def __init__(self, client, op, slug: str, secret: str, token: str, currency: spec.CurrencySpec):
        self.client, self.op, self.slug, self.secret, self.token, self.currency = (
            client,
            op,
            slug,
            secret,
            token,
            currency,
        )
        self.rng = random.Random(op.key(client.world.seed))
        self.prefix = op.key(client.world.seed)
        self.outcomes: list[str] = []

    # -- sending -----------------------------------------------------------------------------

    def send(self, call: str, payload: dict, what: str) -> Response | None:
        body = dumps({"session_token": self.token, "currency": self.currency.code, **payload})
        url = f"{self.client.world.web_url}/api/v1/games/{self.slug}/{call}/"
        answer = self.client.send("POST", url, body=body, headers=signed_headers(self.secret, body))
        self.outcomes.append(self.client._classify(what, answer, self.op))
        return answer

    def bet(self, tx: str, round_id: str, amount: int, what: str = "game_bet") -> Response | None:
        return self.send("bet", {"transaction_id": tx, "round_id": round_id, "amount": self.text(amount)}, what)

    def win(self, tx: str, round_id: str, amount: int) -> Response | None:
        payload = {"transaction_id": tx, "round_id": round_id, "amount": self.text(amount), "round_closed": True}
        return self.send("win", payload, "game_win")

    def rollback(self, tx: str, bet_tx: str, amount: int) -> Response | None:
        payload = {"transaction_id": tx, "reference_transaction_id": bet_tx, "amount": self.text(amount)}
        return self.send("rollback", payload, "game_rollback")

    def text(self, minor: int) -> str:
        return self.currency.text(minor)

    def stake(self) -> int:
        return self.currency.from_eur_cents(self.rng.randint(50, 20_00))

    def payout(self, stake: int) -> int:
        roll = self.rng.random()
        return 0 if roll < 0.6 else stake * self.rng.choice((1, 2, 4, 10))

    def same_again(self, what: str, first: Response | None, again: Response | None) -> None:
        """`again` is `first` sent once more: the stored answer, byte for byte."""
        if first is None or again is None:
            return
        if again.replayed and (again.status, again.body) == (first.status, first.body):
            self.client.stats.replay(f"game {what} replayed identically")
            return
        self.client.stats.violation(
            "replay_mismatch",
            f"game {what} {self.prefix}: first {first.outcome} {first.body[:160]!r}, again {again.outcome} "
            f"replayed={again.replayed} {again.body[:160]!r}",
        )

    # -- scenarios -----------------------------------------------------------------------------

    def concurrent(self) -> None:
        bets = [(f"{self.prefix}-bet{n}", f"{self.prefix}-r{n}", self.stake()) for n in range(CONCURRENT_BETS)]
        threads = [threading.Thread(target=self.bet, args=bet) for bet in bets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for n, (_tx, round_id, amount) in enumerate(bets):
            self.win(f"{self.prefix}-win{n}", round_id, self.payout(amount))

    def duplicate(self) -> None:
        tx, round_id, amount = f"{self.prefix}-bet", f"{self.prefix}-r", self.stake()
        first = self.bet(tx, round_id, amount)
        self.same_again("bet", first, self.bet(tx, round_id, amount))
        twins: list[Response | None] = []
        tx2 = f"{self.prefix}-bet2"
        thread = threading.Thread(target=lambda: twins.append(self.bet(tx2, round_id, amount)))
        thread.start()
        one = self.bet(tx2, round_id, amount)
        thread.join()
        if one is not None and twins and twins[0] is not None:
            other = twins[0]
            if (one.status, one.body) == (other.status, other.body) and (one.replayed or other.replayed):
                self.client.stats.replay("game bet twins identical")
            elif (one.status, one.body) != (other.status, other.body) or one.status == 200:
                self.client.stats.violation(
                    "replay_mismatch",
                    f"game bet twins {tx2}: {one.outcome} replayed={one.replayed} {one.body[:120]!r} / "
                    f"{other.outcome} replayed={other.replayed} {other.body[:120]!r}",
                )
        if first is not None and first.status < 500:
            self.bet(tx, round_id, amount + 1, "game_conflict")
        win_tx, won = f"{self.prefix}-win", self.payout(amount)
        first_win = self.win(win_tx, round_id, won)
        if first_win is not None and first_win.status == 200:
            self.same_again("win", first_win, self.win(win_tx, round_id, won))

    def rollback_first(self) -> None:
        tx, round_id, amount = f"{self.prefix}-bet", f"{self.prefix}-r", self.stake()
        self.rollback(f"{self.prefix}-rb", tx, amount)
        late = self.bet(tx, round_id, amount, "game_bet_late")
        self.same_again("late bet", late, self.bet(tx, round_id, amount, "game_bet_late"))

    def bet_and_rollback(self) -> None:
        tx, round_id, amount = f"{self.prefix}-bet", f"{self.prefix}-r", self.stake()
        self.bet(tx, round_id, amount)
        self.rollback(f"{self.prefix}-rb", tx, amount)
        self.rollback(f"{self.prefix}-rb2", tx, amount)

    def expired(self) -> None:
        round_id, amount = f"{self.prefix}-r", self.stake()
        self.bet(f"{self.prefix}-bet", round_id, amount)
        expire_session(self.token)
        self.bet(f"{self.prefix}-bet2", f"{self.prefix}-r2", amount, "game_bet_expired")
        self.win(f"{self.prefix}-win", round_id, self.payout(amount) or amount)

    def excluded(self) -> None:
        round_id, amount = f"{self.prefix}-r", self.stake()
        self.bet(f"{self.prefix}-bet", round_id, amount)
        url = f"{self.client.world.web_url}/api/v1/exclusions/"
        token = self.client.world.player_tokens[self.op.player]
        answer = self.client.post_json(url, {"kind": "timeout", "days": 1}, token=token, key=f"{self.prefix}-break")
        self.outcomes.append(self.client._classify("take_break", answer, self.op))
        self.bet(f"{self.prefix}-bet2", f"{self.prefix}-r2", amount, "game_bet_excluded")
        self.win(f"{self.prefix}-win", round_id, self.payout(amount) or amount)
