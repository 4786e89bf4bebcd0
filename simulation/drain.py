"""After the clients: calm the world down and bring every open object to a final state.

The PSP is set to succeed with no latency; then, round after round until nothing is
open or the deadline passes: webhooks the PSP has not delivered yet are brought
forward; the payout poller runs (as beat would); deposits the player abandoned are
failed at the PSP's checkout; operators decide every withdrawal still requested
(approve, twice above the four-eyes amount, or reject; reject when the approval is refused
because the player owes the casino after a chargeback) and every failed payout
(retry while attempts remain, else reject), through the operator API like anyone.
Payouts the PSP was told to hold stay open: the invariants allow exactly those.
"""

import random
import time
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection

from . import spec
from .chaos import SUCCEED, Merchant, steer
from .client import Api, World
from .environment import Environment
from .invariants import open_objects
from .stats import Stats

AUTOMATIC_RETRY_GRACE = 20.0  # seconds the drain leaves a queued automatic payout retry to run


@dataclass
class DrainResult:
    seconds: float = 0.0
    rounds: int = 0
    actions: Counter = field(default_factory=Counter)
    left: list = field(default_factory=list)


class Drain:
    def __init__(
        self, *, seed: int, env: Environment, world: World, stats: Stats, merchants: list[Merchant], deadline: float
    ):
        self.seed, self.env, self.world, self.stats = seed, env, world, stats
        self.merchants, self.deadline = merchants, deadline
        self.api = Api(world, stats, retry_window=30)
        self.result = DrainResult()
        self.operator_ids = self._operator_ids()
        self.judged: set = set()
        self.started = time.monotonic()

    def run(self) -> DrainResult:
        self.started = started = time.monotonic()
        for merchant in self.merchants:
            steer(self.env.psp_url, merchant, SUCCEED)
        quiet_rounds = 0
        while time.monotonic() - started < self.deadline:
            self.result.rounds += 1
            self._keep_processes_up()
            left = open_objects()
            if not left:
                quiet_rounds += 1
                if quiet_rounds >= 2:
                    break
                time.sleep(1)
                continue
            quiet_rounds = 0
            self._bring_webhooks_forward()
            self._poll_payouts()
            self._close_deposits()
            self._decide_requested()
            self._settle_failed_payouts()
            time.sleep(1)
        self.result.left = open_objects()
        self.result.seconds = time.monotonic() - started
        return self.result

    # -- the world's machinery ----------------------------------------------------------------

    def _keep_processes_up(self) -> None:
        for name, process in (("the web server", self.env.web), ("sandbox PSP", self.env.psp)):
            if process.poll() is not None:
                self.stats.violation("process_died", f"{name} exited with {process.returncode}")
                raise RuntimeError(f"{name} died; see {self.env.run_dir}")
        if self.env.worker.poll() is not None:
            self.result.actions["celery worker restarted"] += 1
            self.env.start_worker()
            self.env.wait_worker()

    def _bring_webhooks_forward(self) -> None:
        """A real PSP keeps retrying; ours gives up after 10 tries and waits longer and longer."""
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE sandbox_psp_sandboxdelivery SET next_attempt_at = now(), attempts = 0, gave_up_at = NULL "
                "WHERE delivered_at IS NULL AND (gave_up_at IS NOT NULL OR next_attempt_at > now() + interval '2 s')"
            )
            if cursor.rowcount:
                self.result.actions["webhook deliveries brought forward"] += cursor.rowcount

    def _poll_payouts(self) -> None:
        from payouts.tasks import poll_pending_payouts

        poll_pending_payouts.delay()
        self.result.actions["poll_pending_payouts sent"] += 1

    def _close_deposits(self) -> None:
        """Stranded deposits go to the PSP (as the sweeper does); abandoned checkouts fail there."""
        from payouts.checkout import start_checkout
        from payouts.providers import ProviderError
        from payouts.sandbox.models import SandboxPayment
        from wallet.models import Deposit, DepositState

        for deposit in Deposit.objects.filter(state=DepositState.CREATED):
            try:
                start_checkout(deposit)
                self.result.actions["stranded deposits handed to the PSP"] += 1
            except ProviderError:
                pass
        open_at_psp = set(
            SandboxPayment.objects.filter(status=SandboxPayment.Status.OPEN).values_list("reference", flat=True)
        )
        for deposit in Deposit.objects.filter(state=DepositState.PENDING_PROVIDER).exclude(checkout_url=""):
            if str(deposit.pk) in open_at_psp:
                answer = self.api.post_json(deposit.checkout_url, {"outcome": "failed"})
                self.result.actions[f"abandoned checkouts failed ({_outcome(answer)})"] += 1

    def _decide_requested(self) -> None:
        from wallet.models import Withdrawal, WithdrawalApproval, WithdrawalState

        rows = Withdrawal.objects.filter(state=WithdrawalState.REQUESTED).select_related("tenant")
        for withdrawal in rows:
            tenant = _tenant_index(withdrawal.tenant.slug)
            rng = random.Random(f"simulation:{self.seed}:drain:{withdrawal.pk}")
            if rng.random() < 0.25:
                self._decide(withdrawal, tenant, "reject", operator=rng.randrange(len(spec.OPERATOR_NAMES)))
                continue
            approved_by = set(
                WithdrawalApproval.objects.filter(withdrawal=withdrawal).values_list("operator_id", flat=True)
            )
            for operator in range(len(spec.OPERATOR_NAMES)):
                if self.operator_ids[tenant][operator] in approved_by:
                    continue
                answer = self._decide(withdrawal, tenant, "approve", operator=operator)
                if answer is not None and answer.error_code == "PLAYER_ACCOUNT_RESTRICTED":
                    # The player owes after a chargeback: rejecting gives the held money back, which repays it.
                    self._decide(withdrawal, tenant, "reject", operator=operator)
                    break
                if answer is None or answer.status != 200 or answer.json().get("state") != "requested":
                    break  # approved (or refused): one approval was all it needed, or it moved on

    def _settle_failed_payouts(self) -> None:
        """Failed payouts: with attempts left the product retries by itself after the cooldown, so
        the operators leave those alone for a while; a failed payout with attempts left and no
        retry task anywhere (queue, running, or held by a worker) will never be retried
        automatically: that is a violation (automatic_retry_lost), unless the product refused it
        because the player owes after a chargeback (audited). Then operators decide."""
        from django.conf import settings
        from django.utils import timezone

        from core.models import AuditEvent
        from wallet.models import PayoutAttempt, Withdrawal, WithdrawalState

        rows = list(Withdrawal.objects.filter(state=WithdrawalState.PAYOUT_FAILED).select_related("tenant"))
        queued = None
        for withdrawal in rows:
            tenant = _tenant_index(withdrawal.tenant.slug)
            attempts = PayoutAttempt.objects.filter(withdrawal=withdrawal).count()
            last = PayoutAttempt.objects.filter(withdrawal=withdrawal).order_by("-number").first()
            refused = last is not None and last.failure_reason.startswith("Refused by the PSP")  # no auto retry
            # The automatic retry is refused by design while the player owes after a chargeback (audited).
            refused = (
                refused
                or AuditEvent.objects.filter(
                    action="payout.retry_refused",
                    target_id=str(withdrawal.pk),
                    data__error_code="PLAYER_ACCOUNT_RESTRICTED",
                ).exists()
            )
            if attempts < spec.PAYOUT_RETRY_LIMIT and not refused and withdrawal.pk not in self.judged:
                if (timezone.now() - withdrawal.updated_at).total_seconds() < 5:
                    continue  # its failure was just recorded; the retry is being queued
                if queued is None:
                    queued = self.env.queued_tasks(settings.CELERY_BROKER_URL)
                retry_queued = any(
                    task == "payouts.retry_failed_payout" and str(withdrawal.pk) in args for task, args in queued
                )
                if retry_queued and time.monotonic() - self.started < AUTOMATIC_RETRY_GRACE:
                    continue  # the product's own retry is on its way
                self.judged.add(withdrawal.pk)
                if retry_queued:
                    self.result.actions["automatic retries still queued after the grace (operator retried)"] += 1
                else:
                    self.stats.violation(
                        "automatic_retry_lost",
                        f"withdrawal {withdrawal.pk} ({withdrawal.reference}): payout attempt {attempts} failed, "
                        f"attempts remain, but no automatic retry ran or is queued (payout_failed since "
                        f"{withdrawal.updated_at:%H:%M:%S})",
                    )
            rng = random.Random(f"simulation:{self.seed}:drain:{withdrawal.pk}:failed:{attempts}")
            if attempts < spec.PAYOUT_RETRY_LIMIT and rng.random() < 0.5:
                answer = self._decide(withdrawal, tenant, "retry-payout", operator=0)
                if answer is None or answer.error_code != "PLAYER_ACCOUNT_RESTRICTED":
                    continue
            # (a retry refused because the player owes after a chargeback: rejecting repays it)
            self._decide(withdrawal, tenant, "reject", operator=1)

    def _decide(self, withdrawal, tenant: int, action: str, *, operator: int):
        url = f"{self.world.web_url}/api/v1/admin/withdrawals/{withdrawal.pk}/{action}/"
        key = f"sim{self.seed}-drain-{self.result.rounds}-{withdrawal.pk}-{action}-{operator}"
        payload = {"reason": f"Simulation drain: {action} by {spec.OPERATOR_NAMES[operator]}"}
        answer = self.api.post_json(url, payload, token=self.world.operator_tokens[tenant][operator], key=key)
        self.result.actions[f"operator {action} ({_outcome(answer)})"] += 1
        return answer

    def _operator_ids(self) -> list[list[int]]:
        from django.contrib.auth import get_user_model

        users = dict(get_user_model().objects.values_list("username", "id"))
        return [[users[f"{t.slug}-{name}"] for name in spec.OPERATOR_NAMES] for t in spec.TENANTS]


def _tenant_index(slug: str) -> int:
    return next(n for n, t in enumerate(spec.TENANTS) if t.slug == slug)


def _outcome(answer) -> str:
    return "no answer" if answer is None else answer.outcome
