"""Celery payout dispatch throughput beside a no-op task, on one worker (prefork, 2 children).

The dispatch goes to the in-process sandbox PSP, so the figure is our side's cost per
payout plus the stand-in PSP's: claim under lock, commit, "call" the PSP, record the
answer. `python -m bench.celery_throughput` runs only this pair (BENCH_PAYOUTS, default
600, in BENCH_CELERY_ROUNDS, default 3); `make bench` runs it with everything else.
Where a dispatch's time goes, stage by stage: `python -m bench.dispatch_profile`.
"""

import os
import subprocess
import sys
import time

from bench.common import BENCH_DATABASE_URL, Result

QUEUE = "bench-celery"
PAYOUTS = int(os.environ.get("BENCH_PAYOUTS", "600"))
ROUNDS = int(os.environ.get("BENCH_CELERY_ROUNDS", "3"))


def prepare() -> list[str]:
    """Approved withdrawals ready to be paid out, without their dispatch being queued."""
    from django.db import transaction

    from config.celery import one_queue
    from core.actors import Actor
    from players.models import Player
    from tenants.models import PaymentPolicy, Tenant
    from wallet.services import approve_withdrawal, request_withdrawal

    tenant = Tenant.objects.get(slug="bench")
    # The bench player has no verified identity; the tenant pays out without it.
    PaymentPolicy.objects.filter(tenant=tenant).update(kyc_required_for_withdrawal=False)
    player = Player.objects.filter(tenant=tenant).order_by("pk").first()
    ids = []
    with one_queue("bench-unconsumed"):  # approvals queue their dispatch: park it
        for _ in range(PAYOUTS):
            with transaction.atomic():
                withdrawal = request_withdrawal(
                    player=player, amount=100, currency="EUR", actor=Actor.player(player.user)
                )
                approve_withdrawal(withdrawal, actor=Actor.system("bench"))
            ids.append(str(withdrawal.pk))
    _purge("bench-unconsumed")
    return ids


def _purge(queue: str) -> None:
    _broker().delete(queue)


def start_worker() -> subprocess.Popen:
    celery = os.path.join(os.path.dirname(sys.executable), "celery")
    env = {**os.environ, "DATABASE_URL": BENCH_DATABASE_URL, "CELERY_QUEUE": QUEUE, "LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen(
        [celery, "-A", "config", "worker", "-Q", QUEUE, "-c", "2", "--without-mingle", "--without-gossip",
         "-l", "WARNING"],
        env=env,
    )  # fmt: skip
    time.sleep(6)
    return worker


def run(withdrawal_ids: list[str]) -> tuple[Result, Result]:
    """Rounds of no-op tasks then payouts (as many of each), so that a machine whose load
    changes during the run weighs on both figures alike; each figure is its total count
    over its total time."""
    broker = _broker()
    _purge(QUEUE)
    payout_seconds = noop_seconds = 0.0
    done = 0
    for chunk in (withdrawal_ids[n::ROUNDS] for n in range(ROUNDS)):
        noop_seconds += _noops(broker, len(chunk))
        seconds, finished = _payouts(broker, chunk)
        payout_seconds, done = payout_seconds + seconds, done + finished
    payouts = Result("Celery payout dispatch", 2, done, payout_seconds, [])
    noop = Result("Celery no-op task", 2, len(withdrawal_ids), noop_seconds, [])
    return payouts, noop


def _noops(broker, count: int) -> float:
    from core.tasks import ping

    started = time.perf_counter()
    for _ in range(count):
        ping.apply_async(queue=QUEUE)
    # No result backend: done when the queue is empty (at most one task per child is in flight).
    while broker.llen(QUEUE) and time.perf_counter() - started < 300:
        time.sleep(0.005)
    return time.perf_counter() - started


def _payouts(broker, withdrawal_ids: list[str]) -> tuple[float, int]:
    """Seconds until every payout was sent and its answer recorded, and how many were."""
    from payouts.tasks import dispatch_payout
    from wallet.models import PayoutAttempt

    started = time.perf_counter()
    for pk in withdrawal_ids:
        dispatch_payout.apply_async((pk,), queue=QUEUE)
    while broker.llen(QUEUE) and time.perf_counter() - started < 300:
        time.sleep(0.005)
    answered = PayoutAttempt.objects.filter(
        withdrawal_id__in=withdrawal_ids, dispatch_count__gte=1, outcome_unknown=False
    )
    done = 0
    while done < len(withdrawal_ids) and time.perf_counter() - started < 300:
        done = answered.count()  # the last tasks still running when the queue ran empty
        if done < len(withdrawal_ids):
            time.sleep(0.005)
    return time.perf_counter() - started, done


def _broker():
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def main() -> int:
    """`python -m bench.celery_throughput`: only this pair, in its own bench database."""
    os.environ.setdefault("BENCH_WEBHOOK_EVENTS", "0")  # only the PSP account of webhooks.prepare
    from bench.common import HEADER, recreate_database, use_bench_database
    from bench.service_level import prepare as prepare_players
    from bench.webhooks import prepare as prepare_account

    use_bench_database()
    recreate_database(BENCH_DATABASE_URL.rsplit("/", 1)[1])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    prepare_players(1)
    prepare_account(1)
    payout_ids = prepare()
    connections.close_all()
    worker = start_worker()
    try:
        payouts, noop = run(payout_ids)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    print(HEADER)
    print(payouts.row())
    print(noop.row())
    print(f"Celery payout dispatch / no-op task {payouts.rate / noop.rate if noop.rate else 0:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
