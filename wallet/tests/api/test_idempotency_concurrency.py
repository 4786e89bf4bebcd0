"""Idempotency and funds under real concurrency: threads, each with its own client and connection."""

import json
import threading
import time

import pytest
from django.db import connection

from core.models import IdempotencyRecord
from wallet import services
from wallet.models import JournalEntry, Withdrawal
from wallet.tests.concurrency import errors_of, run_together
from wallet.tests.factories import fund
from wallet.tests.invariants import assert_invariants, expect_no_change

from .helpers import assert_problem, balances, client_for, withdrawal_request

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


def _race(clients, send) -> list:
    outcomes = run_together(len(clients), lambda i: send(clients[i], i))
    assert errors_of(outcomes) == []
    return [outcome.value for outcome in outcomes]


def test_twenty_identical_requests_with_one_key_withdraw_once(player):
    # given 100.00 available and twenty clients of the same player
    fund(player, 100_00)
    clients = [client_for(player) for _ in range(THREADS)]
    # when all of them send the same withdrawal with the same key at the same moment
    responses = _race(clients, lambda client, i: withdrawal_request(client, "25.00", key="one-key"))
    # then exactly one withdrawal was made, with one ledger entry
    (withdrawal,) = Withdrawal.objects.filter(player=player)
    assert JournalEntry.objects.filter(event_type="withdraw_requested").count() == 1
    assert balances(player) == (75_00, 25_00)
    # and every answer is the original, an identical replay of it, or "in progress"
    originals = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r]
    (original,) = originals
    assert original.json()["id"] == str(withdrawal.pk)
    for response in responses:
        if response is original:
            continue
        if response.status_code == 201:
            assert response["Idempotent-Replayed"] == "true"
            assert response.content == original.content
        else:
            assert_problem(response, 409, "IDEMPOTENCY_REQUEST_IN_PROGRESS")
    # and afterwards the key replays
    again = withdrawal_request(client_for(player), "25.00", key="one-key")
    assert again.content == original.content and again["Idempotent-Replayed"] == "true"
    assert_invariants()


def test_twenty_withdrawals_with_their_own_keys_against_funds_for_five(player):
    # given funds for exactly five withdrawals of 25.00
    fund(player, 5 * 25_00)
    clients = [client_for(player) for _ in range(THREADS)]
    # when twenty different withdrawals are requested at once
    responses = _race(clients, lambda client, i: withdrawal_request(client, "25.00", key=f"wd-{i}"))
    # then five pass, fifteen are refused for funds, and the balance never went below zero
    created = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert len(created) == 5
    assert len(refused) == 15
    for response in refused:
        body = assert_problem(response, 422, "INSUFFICIENT_FUNDS")
        assert body["requested"] == "25.00" and body["currency"] == "EUR"
    assert Withdrawal.objects.filter(player=player).count() == 5
    assert balances(player) == (0, 5 * 25_00)
    assert_invariants()


def test_one_key_with_different_bodies_at_once_acts_once(player):
    # given funds for both amounts, and ten clients split between two bodies under one key
    fund(player, 100_00)
    clients = [client_for(player) for _ in range(10)]
    amounts = ["10.00" if i % 2 else "20.00" for i in range(10)]
    # when they race
    responses = _race(clients, lambda client, i: withdrawal_request(client, amounts[i], key="shared"))
    # then one withdrawal happened, and the others are its replays, "reused" refusals or "in progress"
    (withdrawal,) = Withdrawal.objects.filter(player=player)
    winner = f"{withdrawal.amount / 100:.2f}"
    for amount, response in zip(amounts, responses, strict=True):
        if response.status_code == 201:
            assert amount == winner and response.json()["id"] == str(withdrawal.pk)
        elif response.status_code == 422:
            assert amount != winner
            assert_problem(response, 422, "IDEMPOTENCY_KEY_REUSED")
        else:
            assert_problem(response, 409, "IDEMPOTENCY_REQUEST_IN_PROGRESS")
    assert_invariants()


def test_twenty_invalid_requests_with_one_key_are_refused_cleanly(player):
    # given twenty clients sending the same invalid amount under one key
    fund(player, 100_00)
    clients = [client_for(player) for _ in range(THREADS)]
    # when they race
    with expect_no_change():
        responses = _race(clients, lambda client, i: withdrawal_request(client, "1.001", key="bad"))
    # then each is refused as invalid or as "in progress", never as a server error
    for response in responses:
        if response.status_code == 400:
            assert_problem(response, 400, "VALIDATION_ERROR")
        else:
            assert_problem(response, 409, "IDEMPOTENCY_REQUEST_IN_PROGRESS")
    # and the key is still free for the corrected request
    assert not IdempotencyRecord.objects.exists()
    assert withdrawal_request(client_for(player), "1.00", key="bad").status_code == 201


def test_a_crash_after_the_service_ran_rolls_back_and_the_retry_succeeds_once(player, monkeypatch):
    # given a server that crashes once, after the withdrawal service did its work but before answering
    fund(player, 100_00)
    real = services.request_withdrawal
    crashes = []

    def crash_once(**kwargs):
        withdrawal = real(**kwargs)
        if not crashes:
            crashes.append(withdrawal.pk)
            raise RuntimeError("boom: database password is hunter2 in /work/main/wallet/services/withdrawals.py")
        return withdrawal

    monkeypatch.setattr(services, "request_withdrawal", crash_once)
    api = client_for(player)
    # when the player's request hits the crash
    with expect_no_change():
        crashed = withdrawal_request(api, "40.00", key="wd-1")
    # then the answer is a 500 problem without any trace, and the crashed attempt's work is gone
    body = assert_problem(crashed, 500, "INTERNAL_ERROR")
    text = crashed.content.decode()
    for leak in ("Traceback", "RuntimeError", "boom", "hunter2", "withdrawals.py", 'File "'):
        assert leak not in text
    assert body["request_id"] == crashed["X-Request-ID"]
    assert crashes and not Withdrawal.objects.filter(pk=crashes[0]).exists()
    assert balances(player) == (100_00, 0)
    # when the client retries with the same key
    retried = withdrawal_request(api, "40.00", key="wd-1")
    # then it runs once, for real, and from then on is replayed
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert Withdrawal.objects.filter(player=player).count() == 1
    assert JournalEntry.objects.filter(event_type="withdraw_requested").count() == 1
    assert balances(player) == (60_00, 40_00)
    replay = withdrawal_request(api, "40.00", key="wd-1")
    assert replay.content == retried.content and replay["Idempotent-Replayed"] == "true"
    assert json.loads(replay.content)["state"] == "requested"
    assert_invariants()


CLAIM_LOCK = "pg_try_advisory_xact_lock(%s) AS got)"


def test_a_twin_that_takes_the_key_just_as_the_first_request_commits_gets_the_replay(player, monkeypatch):
    """The twin's claim statement took its snapshot before the first request committed.

    Under READ COMMITTED a statement sees only rows committed before it started. When the
    first request commits between the twin's snapshot and the twin's try-lock, the twin
    gets the lock but its statement cannot see the record. The real window is microseconds;
    a pg_sleep spliced into the twin's claim statement, before its lock, widens it.
    """
    # given a first request that is acting, and a twin whose claim statement has started
    fund(player, 100_00)
    real = services.request_withdrawal
    first_acting, twin_claiming = threading.Event(), threading.Event()
    spliced = []

    def first_finishes_after_the_twin_started_claiming(**kwargs):
        withdrawal = real(**kwargs)
        first_acting.set()
        assert twin_claiming.wait(timeout=30)
        time.sleep(0.05)  # the twin's statement has its snapshot and sleeps before its try-lock
        return withdrawal

    def slow_claim(execute, sql, params, many, context):
        if CLAIM_LOCK in sql and not spliced:
            sql = sql.replace(CLAIM_LOCK, "pg_try_advisory_xact_lock(%s) AS got FROM pg_sleep(0.5))")
            spliced.append(sql)
            twin_claiming.set()
        return execute(sql, params, many, context)

    monkeypatch.setattr(services, "request_withdrawal", first_finishes_after_the_twin_started_claiming)
    clients = [client_for(player), client_for(player)]

    def send(i):
        if i == 0:
            return withdrawal_request(clients[0], "25.00", key="one")
        assert first_acting.wait(timeout=30)
        with connection.execute_wrapper(slow_claim):
            return withdrawal_request(clients[1], "25.00", key="one")

    # when the first commits while the twin is between its snapshot and its lock
    first, twin = _race(clients, lambda client, i: send(i))
    # then the twin answers with the replay (not a server error), and the money moved once
    assert spliced, "the claim statement changed: update how this test widens the race window"
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    assert twin.status_code == 201, twin.content
    assert twin["Idempotent-Replayed"] == "true" and twin.content == first.content
    assert Withdrawal.objects.filter(player=player).count() == 1
    assert_invariants()
