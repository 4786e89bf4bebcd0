"""The service function `request_withdrawal`, called directly from client processes.

Many wallets: each client process works on its own player's wallet, so the figure is
the cost of the service (locks, ledger, history, audit, commit). One hot wallet: every
client withdraws from the same wallet, so they queue on its row lock. Closed loop: each
client's player paid by card, with CARD_HISTORY earlier card deposits, and every withdrawal
names the card, so the service also sums the method's net deposits under the wallet's lock
(ARCHITECTURE 16; the run's own withdrawals to the card add to that history as it goes).
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
CARD_HISTORY = 1_000  # earlier deposits by card of each closed-loop player: a regular's history


def prepare(clients: int) -> list[int]:
    """A tenant without limits or identity checks and one funded player per client; returns player ids."""
    from tenants.models import PaymentPolicy, Tenant

    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench", "allowed_currencies": ["EUR"]})
    # Withdrawals need a verified identity by default (issue 13); the bench measures the money path.
    PaymentPolicy.objects.update_or_create(tenant=tenant, defaults={"kyc_required_for_withdrawal": False})
    return [_funded_player(tenant, f"bench-player-{n}")[0].pk for n in range(clients)]


def prepare_card_players(clients: int) -> list[tuple[int, str]]:
    """One player per client who paid by card: the funding deposit through the services with the
    card, and CARD_HISTORY - 1 earlier small card deposits written in one statement (the history the
    closed loop sums; bench rows without ledger entries: the bench's books are never reconciled);
    returns (player id, card id) pairs."""
    from django.db import connection

    from tenants.models import Tenant
    from wallet.methods import MethodDetails
    from wallet.models import PaymentMethod

    tenant = Tenant.objects.get(slug="bench")
    pairs = []
    for n in range(clients):
        card = MethodDetails(kind="card", token=f"bench-card-{n}", label="Visa •••• 4242")
        player, deposit = _funded_player(tenant, f"bench-card-player-{n}", method=card)
        if deposit is not None:
            with connection.cursor() as cursor:
                cursor.execute(
                    """INSERT INTO wallet_deposit (id, reference, tenant_id, player_id, wallet_id, amount, currency,
                           state, provider, provider_reference, checkout_url, payment_method_id, created_at,
                           updated_at, completed_at)
                       SELECT gen_random_uuid(), 'BC' || lpad((%s * 100000 + g)::text, 10, '0'), tenant_id,
                           player_id, wallet_id, 1000, currency, 'completed', provider, '', '', payment_method_id,
                           created_at - g * interval '1 hour', now(), now()
                       FROM wallet_deposit, generate_series(1, %s) g WHERE id = %s""",
                    [n, CARD_HISTORY - 1, deposit.pk],
                )
        pairs.append((player.pk, str(PaymentMethod.objects.get(player=player).pk)))
    return pairs


def _funded_player(tenant, username: str, *, method=None):
    """The player `username` of `tenant` and, when new, its FUNDING deposit through the services
    (paid with `method` if given), dated days ago; returns (player, the new deposit or None)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from core.actors import Actor
    from players.models import Player
    from wallet.models import Deposit
    from wallet.services import complete_deposit, create_deposit, mark_deposit_pending

    user, _ = get_user_model().objects.get_or_create(username=username)
    player, created = Player.objects.get_or_create(user=user, defaults={"tenant": tenant})
    if not created:
        return player, None
    psp = Actor.psp("bench")
    deposit = create_deposit(player=player, amount=FUNDING, currency="EUR", actor=psp)
    mark_deposit_pending(deposit, actor=psp, provider_reference=f"bench-{username}")
    complete_deposit(deposit, actor=psp, method=method)
    # Deposited days ago, as most players' money was: the fast cash-out check then reads
    # no ledger history (wallet.risk), so every request costs the same through a run.
    Deposit.objects.filter(pk=deposit.pk).update(created_at=timezone.now() - timedelta(days=3))
    return player, deposit


def _client(player_id: int, card: str | None, start_at: float, seconds: float, results) -> None:
    use_bench_database()
    import django

    django.setup()
    from core.actors import Actor
    from players.models import Player
    from wallet.services import request_withdrawal

    player = Player.objects.select_related("tenant", "user").get(pk=player_id)
    actor = Actor.player(player.user)
    ask = {"player": player, "amount": AMOUNT, "currency": "EUR", "actor": actor, "payment_method": card}
    request_withdrawal(**ask)  # warm the connection
    latencies = []
    wait_until(start_at)
    app, db = own_cpu_seconds(), backend_cpu_seconds()
    deadline = time.perf_counter() + seconds
    while (now := time.perf_counter()) < deadline:
        request_withdrawal(**ask)
        latencies.append((time.perf_counter() - now) * 1000)
    results.put((latencies, 0, (own_cpu_seconds() - app, backend_cpu_seconds() - db)))


def run(player_ids: list[int], clients: int, *, hot: bool = False) -> Result:
    wallets = [player_ids[0]] * clients if hot else player_ids[:clients]
    name = "service: one hot wallet" if hot else "service request_withdrawal"
    return _measure(name, [(pk, None) for pk in wallets])


def run_closed_loop(pairs: list[tuple[int, str]], clients: int) -> Result:
    """request_withdrawal to a card whose net deposits the closed loop sums, one player per client."""
    return _measure("service: closed loop to a card", pairs[:clients])


def _measure(name: str, args: list[tuple]) -> Result:
    cpu: list[tuple[float, float]] = []
    result = run_client_processes(_client, args, DURATION, name, extra=cpu)
    result.cpu_seconds = {"app": sum(app for app, _ in cpu), "db": sum(db for _, db in cpu)}
    return result
