"""The database round trips of `POST withdrawals/`, counted, so that a regression fails here.

In real transactions (not the test's wrapping one), so BEGIN and COMMIT are what production
sends. A new key: the token with its player and tenant (one statement), BEGIN, the key's claim
(advisory lock and record in one statement), the service's savepoint, its wallet lock with
limits and the player's state, its risk figures, its unit of work (one statement), the
savepoint's release, the stored response, COMMIT. Nothing else: the response says whether
the withdrawal is cancelable from the rule the service read under the lock, without reading
the policy again. A replay: the token, BEGIN, the claim that finds the stored answer, COMMIT.
"""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import IdempotencyRecord
from wallet.models import Withdrawal
from wallet.tests.factories import fund

from .helpers import withdrawal_request

pytestmark = pytest.mark.django_db(transaction=True)

FRESH = [
    "SELECT",  # token, user, player, tenant
    "BEGIN",
    "WITH",  # the key's advisory lock, its record inserted or read
    "SAVEPOINT",  # the service's transaction inside the request's
    "SELECT",  # wallet locked, currency limits, player state and the policy's rules
    "WITH",  # risk figures
    "WITH",  # the unit of work: withdrawal, history, audit, journal entry, postings, balance
    "RELEASE",
    "UPDATE",  # the stored response
    "COMMIT",
]
REPLAY = ["SELECT", "BEGIN", "WITH", "COMMIT"]


def _statements(captured) -> list[str]:
    return [query["sql"].split(None, 1)[0].upper() for query in captured.captured_queries]


def test_a_new_withdrawal_takes_ten_round_trips_and_its_replay_four(api, player):
    fund(player, 100_00)
    withdrawal_request(api, "1.00")  # the connection and the prepared statements are warm
    key = str(uuid.uuid4())
    with CaptureQueriesContext(connection) as fresh:
        first = withdrawal_request(api, "1.00", key=key)
    assert first.status_code == 201
    assert _statements(fresh) == FRESH, [q["sql"][:80] for q in fresh.captured_queries]
    with CaptureQueriesContext(connection) as replay:
        again = withdrawal_request(api, "1.00", key=key)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert _statements(replay) == REPLAY, [q["sql"][:80] for q in replay.captured_queries]
    assert Withdrawal.objects.filter(player=player).count() == 2
    assert IdempotencyRecord.objects.filter(key=key, status="completed").count() == 1


def test_the_response_says_cancelable_from_the_rule_read_under_the_lock(api, player):
    # the casino forbids reverse withdrawals: the new withdrawal is not cancelable, without a policy read
    from tenants.models import PaymentPolicy

    PaymentPolicy.objects.update_or_create(tenant=player.tenant, defaults={"player_cancel_allowed": False})
    fund(player, 100_00)
    refused = withdrawal_request(api, "1.00").json()
    PaymentPolicy.objects.filter(tenant=player.tenant).update(player_cancel_allowed=True)
    allowed = withdrawal_request(api, "1.00").json()
    assert (refused["cancelable"], allowed["cancelable"]) == (False, True)
