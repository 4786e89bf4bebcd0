"""The service function `request_withdrawal`, called directly from client processes.

Many wallets: each client process works on its own player's wallet, so the figure is
the cost of the service (locks, ledger, history, audit, commit). One hot wallet: every
client withdraws from the same wallet, so they queue on its row lock.
"""

import time
from datetime import timedelta

from bench.common import (
    DURATION,
    Result,
    backend_cpu_seconds,
    own_cpu_seconds,
    run_client_processes,
    use_bench_database,
    wait_until,
)

AMOUNT = 100  # 1.00 EUR per withdrawal; wallets are funded for millions of them
FUNDING = 10**12


def prepare(clients: int) -> list[int]:
    """A tenant without limits or identity checks and one funded player per client; returns player ids."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from core.actors import Actor
    from players.models import Player
    from tenants.models import PaymentPolicy, Tenant
    from wallet.models import Deposit
    from wallet.services import complete_deposit, create_deposit, mark_deposit_pending

    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench", "allowed_currencies": ["EUR"]})
    # Withdrawals need a verified identity by default (issue 13); the bench measures the money path.
    PaymentPolicy.objects.update_or_create(tenant=tenant, defaults={"kyc_required_for_withdrawal": False})
    ids = []
    for n in range(clients):
        user, _ = get_user_model().objects.get_or_create(username=f"bench-player-{n}")
        player, created = Player.objects.get_or_create(user=user, defaults={"tenant": tenant})
        if created:
            psp = Actor.psp("bench")
            deposit = create_deposit(player=player, amount=FUNDING, currency="EUR", actor=psp)
            mark_deposit_pending(deposit, actor=psp, provider_reference=f"bench-{n}")
            complete_deposit(deposit, actor=psp)
            # Deposited days ago, as most players' money was: the fast cash-out check then reads
            # no ledger history (wallet.risk), so every request costs the same through a run.
            Deposit.objects.filter(pk=deposit.pk).update(created_at=timezone.now() - timedelta(days=3))
        ids.append(player.pk)
    return ids


def _client(player_id: int, start_at: float, seconds: float, results) -> None:
    use_bench_database()
    import django

    django.setup()
    from core.actors import Actor
    from players.models import Player
    from wallet.services import request_withdrawal

    player = Player.objects.select_related("tenant", "user").get(pk=player_id)
    actor = Actor.player(player.user)
    request_withdrawal(player=player, amount=AMOUNT, currency="EUR", actor=actor)  # warm the connection
    latencies = []
    wait_until(start_at)
    app, db = own_cpu_seconds(), backend_cpu_seconds()
    deadline = time.perf_counter() + seconds
    while (now := time.perf_counter()) < deadline:
        request_withdrawal(player=player, amount=AMOUNT, currency="EUR", actor=actor)
        latencies.append((time.perf_counter() - now) * 1000)
    results.put((latencies, 0, (own_cpu_seconds() - app, backend_cpu_seconds() - db)))


def run(player_ids: list[int], clients: int, *, hot: bool = False) -> Result:
    wallets = [player_ids[0]] * clients if hot else player_ids[:clients]
    name = "service: one hot wallet" if hot else "service request_withdrawal"
    cpu: list[tuple[float, float]] = []
    result = run_client_processes(_client, [(pk,) for pk in wallets], DURATION, name, extra=cpu)
    result.cpu_seconds = {"app": sum(app for app, _ in cpu), "db": sum(db for _, db in cpu)}
    return result
