"""Faults injected while the clients run, on a timeline drawn from the seed.

- Webhooks: about 10% of the webhooks the sandbox PSP queues are sent once more by us
  (same webhook-id, re-signed with the merchant's secret and a fresh timestamp), in
  shuffled batches; a few go again under a new webhook-id (a PSP reporting the same
  news twice); a few are held back in the PSP's queue so later ones overtake them.
- Celery: a pool process of the worker is SIGKILLed every few seconds, and once the
  whole worker is SIGKILLed and a new one started (acks_late and the poller carry the
  work over).
- PostgreSQL: a backend of the web or worker processes is terminated every few
  seconds (pg_terminate_backend), active ones preferred.
- The PSP: steered through its API into fail-first bursts, unavailable windows, failing
  large amounts, latency above PSP_TIMEOUT_SECONDS (outcome unknown) and, once, holding
  payouts forever (what the invariants allow to stay open).
- Beat: `payouts.poll_pending_payouts` is sent every few seconds, as celery beat would.

Each kind has its own random stream from the seed, so the same seed gives the same
sequence of faults; when they land depends on the machine's speed.
"""

import os
import random
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connection, transaction
from standardwebhooks import Webhook

from . import spec
from .environment import WEB_APP_NAME, WORKER_APP_NAME, Environment
from .httpio import dumps, request
from .stats import Stats

DUPLICATE_RATE, TWIN_RATE, HOLD_BACK_RATE = 0.10, 0.02, 0.05
WHOLE_WORKER_KILL_AT = 0.4  # of the clients' progress


@dataclass(frozen=True)
class Profile:
    """How hard each fault hits. `default` is the balanced mix of `make sim`; the others
    focus on one path to make a rare interleaving likely (`--focus`)."""

    db_seconds: tuple[float, float] = (1.5, 4.0)  # between two terminated connections
    db_worker_share: float = 0.5  # of those, the worker's (the rest the web's)
    psp_deck: tuple[str, ...] = ("fail_first", "unavailable", "latency", "fail_amount", "latency", "fail_first")


PROFILES = {
    "default": Profile(),
    # Payouts fail all the time and the worker's connections drop every half second: the
    # automatic retry of a failed payout must survive a dropped connection.
    "payout-retries": Profile(db_seconds=(0.3, 0.6), db_worker_share=1.0, psp_deck=("fail", "fail", "fail_first")),
}


@dataclass
class Merchant:
    merchant_id: str
    pk: int
    api_key: str
    signing_secret: str
    four_eyes_amount: int


@dataclass(order=True)
class _Resend:
    at: float
    event_id: str = field(compare=False)
    merchant_pk: int = field(compare=False)
    payload: str = field(compare=False)
    kind: str = field(compare=False)
    tries: int = field(default=0, compare=False)


class Chaos(threading.Thread):
    def __init__(
        self,
        *,
        seed: int,
        env: Environment,
        stats: Stats,
        merchants: list[Merchant],
        progress,
        kill_connections: bool = True,
        kill_workers: bool = True,
        profile: Profile = PROFILES["default"],
    ):
        super().__init__(name="chaos", daemon=True)
        self.env, self.stats, self.merchants, self.progress = env, stats, merchants, progress
        self.by_pk = {m.pk: m for m in merchants}
        self.kill_connections, self.kill_workers = kill_connections, kill_workers
        self.profile = profile
        self.webhook_url = f"{env.web_url}/api/v1/webhooks/psp/sandbox/"
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        # One stream per kind of fault: the same seed gives the same sequence of each.
        self.rng = {kind: random.Random(f"simulation:{seed}:chaos:{kind}") for kind in _KINDS}
        self.last_delivery = 0
        self.resends: list[_Resend] = []
        self.steered: dict[int, float] = {}  # merchant pk -> when to set it back to succeed
        self.hold_done = False
        self.frozen_until = 0.0
        self.deck: list[str] = []
        self.whole_worker_killed = False

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=60)

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as error:  # noqa: BLE001 - reported by the run, never silent
            self.error = error
        finally:
            connection.close()

    def _loop(self) -> None:
        now = time.monotonic()
        due = {
            "webhooks": now,
            "beat": now + 2,
            "db": now + self._interval("db"),
            "child": now + self._interval("child"),
            "web": now + self._interval("web"),
            "psp": now + self._interval("psp"),
            "freeze": now + self._interval("freeze"),
        }
        while not self.stopping.is_set():
            now = time.monotonic()
            for kind, when in list(due.items()):
                if when <= now:
                    getattr(self, f"_{kind}")()
                    due[kind] = time.monotonic() + self._interval(kind)
            self._revert_steering()
            if self.frozen_until and self.frozen_until <= time.monotonic():
                self._thaw()
            if self.kill_workers and not self.whole_worker_killed and self.progress() >= WHOLE_WORKER_KILL_AT:
                self._kill_whole_worker()
            time.sleep(0.05)
        if self.frozen_until:
            self._thaw()
        self._flush_resends(final=True)
        self._revert_steering(everything=True)

    def _interval(self, kind: str) -> float:
        low, high = self.profile.db_seconds if kind == "db" else _KINDS[kind]
        return self.rng[kind].uniform(low, high)

    # -- webhooks -----------------------------------------------------------------------------

    def _webhooks(self) -> None:
        from payouts.sandbox.models import SandboxDelivery

        rng = self.rng["webhook-choice"]
        fresh = list(
            SandboxDelivery.objects.filter(id__gt=self.last_delivery)
            .order_by("id")
            .values_list("id", "event_id", "merchant_id", "payload")[:1000]
        )
        now = time.monotonic()
        for pk, event_id, merchant_pk, payload in fresh:
            self.last_delivery = pk
            roll = rng.random()
            if roll < DUPLICATE_RATE:
                self.resends.append(_Resend(now + rng.uniform(0, 2), event_id, merchant_pk, payload, "duplicate"))
            elif roll < DUPLICATE_RATE + TWIN_RATE:
                twin_id = f"evt_simtwin_{uuid.uuid4().hex[:20]}"
                self.resends.append(_Resend(now + rng.uniform(0, 2), twin_id, merchant_pk, payload, "twin"))
            elif roll < DUPLICATE_RATE + TWIN_RATE + HOLD_BACK_RATE:
                self._hold_back(pk, rng.uniform(1, 4))
        self._flush_resends()

    def _hold_back(self, pk: int, seconds: float) -> None:
        """Delay a queued delivery in the PSP's own queue, so the ones after it overtake it."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE sandbox_psp_sandboxdelivery SET next_attempt_at = now() + make_interval(secs => %s) "
                "WHERE id IN (SELECT id FROM sandbox_psp_sandboxdelivery WHERE id = %s AND delivered_at IS NULL "
                "AND attempts = 0 FOR UPDATE SKIP LOCKED)",
                [seconds, pk],
            )
            if cursor.rowcount:
                self.stats.inject("webhooks held back (delivered out of order)")

    def _flush_resends(self, final: bool = False) -> None:
        now = time.monotonic()
        due = [r for r in self.resends if final or r.at <= now]
        if not due:
            return
        self.resends = [r for r in self.resends if r not in due]
        self.rng["webhook-order"].shuffle(due)
        if len(due) > 1:
            self.stats.inject("webhook batches re-sent in shuffled order")
        for resend in due:
            self._resend(resend, final)

    def _resend(self, resend: _Resend, final: bool) -> None:
        merchant = self.by_pk[resend.merchant_pk]
        answer = None
        for attempt in range(10 if final else 1):
            if attempt:
                time.sleep(0.5)
            at = datetime.now(tz=UTC)
            headers = {
                "webhook-id": resend.event_id,
                "webhook-timestamp": str(int(at.timestamp())),
                "webhook-signature": Webhook(merchant.signing_secret).sign(resend.event_id, at, resend.payload),
                "Content-Type": "application/json",
            }
            try:
                answer = request("POST", self.webhook_url, body=resend.payload.encode(), headers=headers, timeout=15)
            except OSError:
                answer = None
            if answer is not None and answer.status < 500:
                break
        if answer is None or answer.status >= 500:
            resend.tries += 1
            if resend.tries < 10 and not final:  # like a PSP: try again a little later
                resend.at = time.monotonic() + 0.5 * resend.tries
                self.resends.append(resend)
            else:
                self.stats.inject(f"  {resend.kind} given up after retries")
            return
        if answer.status != 200:
            self.stats.violation(
                "webhook_refused", f"{resend.kind} of {resend.event_id} -> {answer.outcome}: {answer.body[:200]!r}"
            )
            return
        body = answer.json()
        label = "already seen" if body.get("duplicate") else f"new to the product, {body.get('outcome')}"
        name = (
            "duplicate webhooks (same webhook-id)" if resend.kind == "duplicate" else "twin webhooks (new webhook-id)"
        )
        self.stats.inject(name)
        self.stats.inject(f"  {resend.kind}: {label}")

    # -- Celery ---------------------------------------------------------------------------------

    def _child(self) -> None:
        if not self.kill_workers:
            return
        children = self.env.worker_children()
        if not children:
            return
        pid = children[self.rng["child-choice"].randrange(len(children))]
        try:
            os.kill(pid, signal.SIGKILL)
            self.stats.inject("celery pool processes killed (SIGKILL)")
        except ProcessLookupError:
            pass

    def _web(self) -> None:
        """SIGKILL a web server worker, mid-request or idle: the client sees the connection drop
        and retries with the same key; the crashed request's transaction rolled back."""
        if not self.kill_workers:
            return
        children = self.env.web_children()
        if not children:
            return
        pid = children[self.rng["web-choice"].randrange(len(children))]
        try:
            os.kill(pid, signal.SIGKILL)
            self.stats.inject("web workers killed (SIGKILL)")
        except ProcessLookupError:
            pass

    def _freeze(self) -> None:
        """The PSP stops answering for a few seconds (SIGSTOP): deposits get 503 PROVIDER_UNAVAILABLE
        and are resumed by the retry with the same key; payout calls time out (outcome unknown)."""
        if self.frozen_until or not self.kill_workers:
            return
        self.env.freeze_psp()
        self.frozen_until = time.monotonic() + self.rng["freeze"].uniform(2.0, 4.0)
        self.stats.inject("PSP frozen (SIGSTOP for 2-4 s)")

    def _thaw(self) -> None:
        self.env.thaw_psp()
        self.frozen_until = 0.0

    def _kill_whole_worker(self) -> None:
        self.whole_worker_killed = True
        self.env.kill_worker()
        self.stats.inject("celery worker killed whole (SIGKILL) and replaced")
        self.env.start_worker()
        self.env.wait_worker()

    # -- PostgreSQL -------------------------------------------------------------------------------

    def _db(self) -> None:
        if not self.kill_connections:
            return
        rng = self.rng["db-choice"]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, application_name, state FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name IN (%s, %s) AND pid <> pg_backend_pid() ORDER BY pid",
                [WEB_APP_NAME, WORKER_APP_NAME],
            )
            everyone = cursor.fetchall()
            # The web and the worker are hit about equally often, busy backends preferred.
            app = WORKER_APP_NAME if rng.random() < self.profile.db_worker_share else WEB_APP_NAME
            backends = [b for b in everyone if b[1] == app] or everyone
            busy = [b for b in backends if b[2] in ("active", "idle in transaction")]
            pool = busy if busy and rng.random() < 0.7 else backends
            if not pool:
                return
            pid, app, state = pool[rng.randrange(len(pool))]
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            if cursor.fetchone()[0]:
                self.stats.inject("database connections terminated")
                self.stats.inject(f"  of {app} while {state}")

    # -- the PSP ----------------------------------------------------------------------------------

    def _psp(self) -> None:
        """Steer one merchant for a few seconds. Modes come from a shuffled deck, so every
        mode shows up early even in a short run; holding payouts is in the first deck only."""
        rng = self.rng["psp"]
        free = [m for m in self.merchants if m.pk not in self.steered]
        if not free or self.frozen_until:
            return
        merchant = free[rng.randrange(len(free))]
        if not self.deck:
            self.deck = list(self.profile.psp_deck)
            if not self.hold_done:
                self.deck.append("hold")
                self.hold_done = True
            rng.shuffle(self.deck)
        mode = self.deck.pop()
        if mode == "fail_first":
            label, change = "fail_first burst", {"payout_behavior": "fail_first", "fail_first": rng.randint(2, 5)}
        elif mode == "fail":
            label, change = "every payout fails", {"payout_behavior": "fail"}
        elif mode == "unavailable":
            label, change = "unavailable window", {"payout_behavior": "unavailable"}
        elif mode == "latency":
            latency = int((self.env.settings.psp_timeout_seconds + rng.uniform(0.3, 1.0)) * 1000)
            label, change = "latency above the timeout", {"payout_behavior": "succeed", "latency_ms": latency}
        elif mode == "fail_amount":
            threshold = merchant.four_eyes_amount
            label, change = (
                "fail large amounts",
                {"payout_behavior": "fail_amount", "fail_amount_at_or_above": threshold},
            )
        else:
            label, change = "hold payouts (left open)", {"payout_behavior": "hold"}
        window = rng.uniform(1.0, 2.0) if mode == "hold" else rng.uniform(2.0, 5.0)
        if self._steer(merchant, change):
            self.steered[merchant.pk] = time.monotonic() + window
            self.stats.inject(f"PSP steered: {label}")

    def _revert_steering(self, everything: bool = False) -> None:
        if self.frozen_until:
            return  # the PSP answers nothing while frozen
        now = time.monotonic()
        for pk, until in list(self.steered.items()):
            if (everything or until <= now) and self._steer(self.by_pk[pk], SUCCEED):
                del self.steered[pk]

    def _steer(self, merchant: Merchant, change: dict) -> bool:
        return steer(self.env.psp_url, merchant, change)

    # -- beat ---------------------------------------------------------------------------------------

    def _beat(self) -> None:
        from payouts.tasks import poll_pending_payouts

        poll_pending_payouts.delay()
        self.stats.inject("beat: poll_pending_payouts sent")


SUCCEED = {"payout_behavior": "succeed", "latency_ms": 0, "fail_first": 0, "fail_amount_at_or_above": None}

# kind -> seconds between two faults of that kind (uniform between the bounds)
_KINDS = {
    "webhooks": (0.2, 0.4),
    "webhook-choice": (0, 0),
    "webhook-order": (0, 0),
    "beat": (4.0, 4.0),
    "db": (0, 0),  # from the profile
    "child": (5.0, 12.0),
    "child-choice": (0, 0),
    "web": (6.0, 14.0),
    "web-choice": (0, 0),
    "freeze": (15.0, 30.0),
    "db-choice": (0, 0),
    "psp": (2.0, 5.0),
}


def steer(psp_url: str, merchant: Merchant, change: dict) -> bool:
    """POST /v1/behavior at the sandbox PSP with the merchant's API key."""
    for _ in range(10):
        try:
            answer = request(
                "POST",
                f"{psp_url}/v1/behavior",
                body=dumps(change),
                headers={"Authorization": f"Bearer {merchant.api_key}"},
                timeout=10,
            )
            if answer.status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def merchants_of_run() -> list[Merchant]:
    from payouts.models import ProviderAccount
    from payouts.sandbox.models import SandboxMerchant

    found = []
    for account in ProviderAccount.objects.select_related("tenant").order_by("tenant__slug"):
        merchant = SandboxMerchant.objects.get(merchant_id=account.merchant_id)
        tenant_spec = next(t for t in spec.TENANTS if t.slug == account.tenant.slug)
        threshold = spec.limits_for(tenant_spec.currencies[0])["four_eyes_amount"]
        found.append(Merchant(merchant.merchant_id, merchant.pk, merchant.api_key, merchant.signing_secret, threshold))
    return found
