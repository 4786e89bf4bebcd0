"""The service function `request_withdrawal`, called directly from client processes.

Each client process works on its own player's wallet, so the figure is the cost of
the service (locks, ledger, history, audit, commit), not contention on one row.
"""

import multiprocessing
import time

from bench.common import DURATION, Result, use_bench_database

AMOUNT = 100  # 1.00 EUR per withdrawal; wallets are funded for millions of them
FUNDING = 10**12


def prepare(clients: int) -> list[int]:
    """A tenant without limits and one funded player per client; returns player ids."""
    from django.contrib.auth import get_user_model

    from tenants.models import PaymentPolicy, Tenant
    from wallet.models import Actor, Player
    from wallet.services import complete_deposit, create_deposit, mark_deposit_pending

    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench", "allowed_currencies": ["EUR"]})
    PaymentPolicy.objects.get_or_create(tenant=tenant)
    ids = []
    for n in range(clients):
        user, _ = get_user_model().objects.get_or_create(username=f"bench-player-{n}")
        player, created = Player.objects.get_or_create(user=user, defaults={"tenant": tenant})
        if created:
            psp = Actor.psp("bench")
            deposit = create_deposit(player=player, amount=FUNDING, currency="EUR", actor=psp)
            mark_deposit_pending(deposit, actor=psp, provider_reference=f"bench-{n}")
            complete_deposit(deposit, actor=psp)
        ids.append(player.pk)
    return ids


def _client(player_id: int, start_at: float, seconds: float, results) -> None:
    use_bench_database()
    import django

    django.setup()
    from wallet.models import Actor, Player
    from wallet.services import request_withdrawal

    player = Player.objects.select_related("tenant", "user").get(pk=player_id)
    actor = Actor.player(player.user)
    request_withdrawal(player=player, amount=AMOUNT, currency="EUR", actor=actor)  # warm the connection
    latencies = []
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.perf_counter() + seconds
    while (now := time.perf_counter()) < deadline:
        request_withdrawal(player=player, amount=AMOUNT, currency="EUR", actor=actor)
        latencies.append((time.perf_counter() - now) * 1000)
    results.put(latencies)


def run(player_ids: list[int], clients: int) -> Result:
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start_at = time.time() + 3  # time for every process to start and connect
    procs = [ctx.Process(target=_client, args=(player_ids[n], start_at, DURATION, results)) for n in range(clients)]
    for proc in procs:
        proc.start()
    latencies = []
    for _ in procs:
        latencies.extend(results.get())
    for proc in procs:
        proc.join()
    return Result("service request_withdrawal", clients, len(latencies), DURATION, latencies)
