"""PSP webhooks over HTTP: fresh events (each completes a deposit) against redeliveries.

A duplicate `webhook-id` must be recognized before any row lock is taken, so
redeliveries should be much cheaper than fresh events; the goal is at least 1.5x.
"""

import json
import os
import time
from datetime import UTC, datetime

from bench.common import Result, run_client_processes, wait_until
from bench.http_api import call, request_bytes

EVENTS_PER_CLIENT = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "600"))


def prepare(clients: int) -> tuple[str, list[list[dict]]]:
    """Pending deposits for a bench tenant with an in-process sandbox account; their events."""
    from core.actors import Actor
    from payouts.models import ProviderAccount
    from payouts.sandbox import engine
    from players.models import Player
    from tenants.models import Tenant
    from wallet.services import create_deposit, mark_deposit_pending

    tenant = Tenant.objects.get(slug="bench")
    secret = engine.new_secret()
    engine.register_merchant("bench", api_key="sk_bench", signing_secret=secret, webhook_url="")
    ProviderAccount.objects.update_or_create(
        tenant=tenant,
        defaults={"provider": "sandbox", "merchant_id": "bench", "api_key": "sk_bench", "webhook_secrets": [secret]},
    )
    players = list(Player.objects.filter(tenant=tenant).order_by("pk")[:clients])
    batches = []
    for n in range(clients):
        player = players[n % len(players)]
        events = []
        for i in range(EVENTS_PER_CLIENT):
            deposit = create_deposit(player=player, amount=1_000, currency="EUR", actor=Actor.psp("bench"))
            mark_deposit_pending(deposit, actor=Actor.psp("bench"), provider_reference=f"bench-pay-{n}-{i}")
            data = {
                "payment_id": f"bench-pay-{n}-{i}",
                "reference": str(deposit.pk),
                "amount": 1_000,
                "currency": "EUR",
            }
            events.append({"id": f"evt_bench_{n}_{i}", "type": "payment.succeeded", "data": data})
        batches.append(events)
    return secret, batches


def _signed(secret: str, event: dict) -> bytes:
    from standardwebhooks import Webhook

    body = json.dumps(event, separators=(",", ":"))
    now = datetime.now(tz=UTC)
    headers = {
        "Content-Type": "application/json",
        "webhook-id": event["id"],
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(event["id"], now, body),
    }
    return request_bytes("POST", "/api/v1/webhooks/psp/sandbox/", headers, body.encode())


def _client(secret: str, events: list[dict], start_at: float, seconds: float, results) -> None:
    """Sends every event once; `seconds` is unused: the batch is fixed, the time is measured."""
    latencies, failures = [], 0
    wait_until(start_at)
    for event in events:
        started = time.perf_counter()
        failures += call(_signed(secret, event)) != 200
        latencies.append((time.perf_counter() - started) * 1000)
    results.put((latencies, failures))


def run(secret: str, batches: list[list[dict]], label: str) -> Result:
    result = run_client_processes(_client, [(secret, batch) for batch in batches], 0, label)
    # A fixed batch per client, sent back to back: each client's busy time is the sum of
    # its latencies, and the clients run side by side.
    result.seconds = sum(result.latencies_ms) / 1000 / len(batches) or 1.0
    return result
