"""Events in any order, with duplicates: the same end state, money moved once, never backwards.

One world is built; each of 100 seeded orderings is delivered inside a savepoint that is
rolled back afterwards, so every ordering starts from the same state. Deferred
constraints (balanced journal entries) are checked before each rollback.
"""

import random
from dataclasses import dataclass

import pytest
from django.db import connection, transaction

from payouts.models import WebhookEvent
from payouts.webhooks import receive
from wallet.models import Deposit, PayoutAttempt, Wallet, Withdrawal
from wallet.services import retry_payout
from wallet.tests.builders import AMOUNT, REASON, deposit_in_state, operator_of, pending_attempt, withdrawal_in_state
from wallet.tests.factories import fund
from wallet.tests.invariants import assert_invariants

from .helpers import envelope, money_events, payment_data, payout_data, signed_headers

pytestmark = pytest.mark.django_db

SEEDS = range(100)


@dataclass(frozen=True)
class Event:
    name: str  # for the failure message
    subject: str  # which object it reports on
    kind: str  # "news" (the outcome) or "late" (a contradiction that must come after the news)
    event_id: str
    body: str


def _event(name: str, subject: str, kind: str, event_type: str, data: dict) -> Event:
    event_id, body = envelope(event_type, data)
    return Event(name, subject, kind, event_id, body)


def _shuffled(rng: random.Random, events: list[Event]) -> list[Event]:
    """A random order in which each subject's "late" events come after its first piece of news."""
    order = [e for e in events if e.kind == "news"]
    rng.shuffle(order)
    for late in (e for e in events if e.kind == "late"):
        first_news = next(i for i, e in enumerate(order) if e.subject == late.subject)
        order.insert(rng.randint(first_news + 1, len(order)), late)
    return order


@pytest.fixture
def world(player, tenant):
    """What our side knows before the PSP's news arrives."""
    fund(player, 3 * AMOUNT)
    created = deposit_in_state("created", player=player)  # the webhook may overtake our bookkeeping
    pending = deposit_in_state("pending_provider", player=player)
    # withdrawal A: attempt 1 recorded failed, attempt 2 at the PSP
    retried = withdrawal_in_state("payout_failed", player=player, funded=False)
    first = PayoutAttempt.objects.get(withdrawal=retried, number=1)
    retry_payout(retried, actor=operator_of(tenant), reason=REASON, provider="sandbox")
    second = pending_attempt(retried)
    # withdrawal B: one attempt at the PSP
    single = withdrawal_in_state("payout_pending", player=player, funded=False)
    only = pending_attempt(single)
    events = {}
    for label, dep in (("created", created), ("pending_provider", pending)):
        events[label] = [
            _event(f"deposit paid #{n}", "deposit", "news", "payment.succeeded", payment_data(dep)) for n in (1, 2)
        ]
        events[label].append(
            _event("deposit failed", "deposit", "late", "payment.failed", payment_data(dep, status="failed"))
        )
    failed = payout_data(first, status="failed", reason="Beneficiary bank rejected the transfer")
    payouts = [_event(f"A attempt 1 failed #{n}", "A", "news", "payout.failed", failed) for n in (1, 2)]
    payouts += [_event(f"A attempt 2 paid #{n}", "A", "news", "payout.succeeded", payout_data(second)) for n in (1, 2)]
    payouts += [_event(f"B paid #{n}", "B", "news", "payout.succeeded", payout_data(only)) for n in (1, 2)]
    payouts.append(_event("B failed", "B", "late", "payout.failed", payout_data(only, status="failed")))
    return {
        "deposits": {"created": created, "pending_provider": pending},
        "withdrawals": (retried, single),
        "events": {start: deposit_events + payouts for start, deposit_events in events.items()},
    }


def _end_state(player, deposit, world) -> dict:
    retried, single = world["withdrawals"]
    return {
        "deposit": Deposit.objects.get(pk=deposit.pk).state,
        "withdrawals": [Withdrawal.objects.get(pk=w.pk).state for w in (retried, single)],
        "money": [money_events(x) for x in (deposit, retried, single)],
        "attempts": sorted(PayoutAttempt.objects.filter(withdrawal__player=player).values_list("number", "status")),
        "wallet": Wallet.objects.filter(player=player).values_list("balance_available", "balance_held").get(),
    }


EXPECTED = {
    "deposit": "completed",
    "withdrawals": ["paid", "paid"],
    "money": [["deposit_completed"], ["withdraw_requested", "withdraw_paid"], ["withdraw_requested", "withdraw_paid"]],
    "attempts": [(1, "failed"), (1, "succeeded"), (2, "succeeded")],
    "wallet": (2 * AMOUNT, 0),  # funded 75.00, paid out 50.00, deposited 25.00
}
EXPECTED_OUTCOMES = {
    # per subject, whatever the order: the first news applies, repeats change nothing, late ones are stale
    "deposit": ["applied", "no_change", "stale"],
    "A": ["applied", "no_change", "no_change", "no_change"],  # attempt 1 was already recorded failed
    "B": ["applied", "no_change", "stale"],
}


def test_any_order_of_duplicated_and_late_events_ends_the_same(secret, player, world):
    # given a deposit (created or already pending), a withdrawal on its second attempt and one on its first,
    # and the PSP's news about them, each sent twice under its own webhook-id, plus failures after successes
    for seed in SEEDS:
        rng = random.Random(seed)
        start = rng.choice(sorted(world["events"]))
        events = world["events"][start]
        subject_of = {e.event_id: e.subject for e in events}
        order = _shuffled(rng, events)
        context = f"seed={seed} deposit {start}, order={[e.name for e in order]}"
        with transaction.atomic():
            # when the PSP delivers them in this order (to the intake behind the endpoint)
            receipts = [
                receive("sandbox", headers=signed_headers(secret, e.event_id, e.body), body=e.body.encode())
                for e in order
            ]
            # then every delivery is taken (none a duplicate) and the end state is that of every other order
            assert [r.duplicate for r in receipts] == [False] * len(order), context
            assert _end_state(player, world["deposits"][start], world) == EXPECTED, context
            stored: dict[str, list[str]] = {}
            for event_id, outcome in WebhookEvent.objects.values_list("event_id", "outcome"):
                stored.setdefault(subject_of[event_id], []).append(outcome)
            assert {k: sorted(v) for k, v in stored.items()} == EXPECTED_OUTCOMES, context
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the balanced-entry trigger runs now
            assert_invariants()
            transaction.set_rollback(True)
