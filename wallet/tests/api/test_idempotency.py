"""Idempotency-Key semantics (design section 6): required, replayed, scoped, not consumed by 400s, expiring."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditEvent, IdempotencyRecord
from wallet.models import Deposit, JournalEntry, Withdrawal
from wallet.services import complete_deposit
from wallet.tests.builders import PSP, set_limits, withdrawal_in_state
from wallet.tests.factories import fund
from wallet.tests.invariants import expect_no_change

from .helpers import DEPOSITS, assert_problem, balances, cancel_request, client_for, deposit_request, withdrawal_request

pytestmark = pytest.mark.django_db

REPLAYED = "Idempotent-Replayed"


def assert_replay_of(replay, original) -> None:
    """Same status, byte-identical body and content type, flagged as a replay."""
    assert replay.status_code == original.status_code
    assert replay.content == original.content
    assert replay["Content-Type"] == original["Content-Type"]
    assert replay[REPLAYED] == "true"
    assert REPLAYED not in original


# Required ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "   "])
def test_a_deposit_without_a_key_is_refused_and_creates_nothing(api, key):
    with expect_no_change():
        response = deposit_request(api, key=key)
    assert_problem(response, 400, "IDEMPOTENCY_KEY_REQUIRED")
    assert not Deposit.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_a_withdrawal_without_a_key_is_refused_and_moves_nothing(api, player):
    fund(player, 50_00)
    with expect_no_change():
        response = withdrawal_request(api, "10.00", key=None)
    assert_problem(response, 400, "IDEMPOTENCY_KEY_REQUIRED")
    assert balances(player) == (50_00, 0)


def test_a_cancel_without_a_key_is_refused_and_changes_nothing(api, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    with expect_no_change():
        response = cancel_request(api, withdrawal.pk, key=None)
    assert_problem(response, 400, "IDEMPOTENCY_KEY_REQUIRED")
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "requested"


@pytest.mark.parametrize(
    "key",
    ["k" * 256, "clé-ümlaut", "ключ", "two words", "tab\tkey", "😀"],
    ids=["256-chars", "latin1", "cyrillic", "space", "tab", "emoji"],
)
def test_a_key_that_is_too_long_or_not_visible_ascii_is_refused(api, key):
    with expect_no_change():
        response = deposit_request(api, key=key)
    body = assert_problem(response, 400, "VALIDATION_ERROR")
    assert "Idempotency-Key" in body["errors"]
    assert not IdempotencyRecord.objects.exists()


def test_a_key_of_255_visible_ascii_characters_is_accepted(api):
    key = ("A1-_~!." * 40)[:255]
    first = deposit_request(api, key=key)
    assert first.status_code == 201
    assert_replay_of(deposit_request(api, key=key), first)


# Replays -------------------------------------------------------------------------------------


def test_a_repeated_deposit_is_replayed_byte_for_byte_and_creates_nothing(api, player):
    # given a deposit created with a key
    first = deposit_request(api, "25.00", key="dep-1")
    assert first.status_code == 201
    # when the same request is sent again with the same key
    with expect_no_change():
        again = deposit_request(api, "25.00", key="dep-1")
    # then the stored response comes back, marked as a replay, and there is still one deposit
    assert_replay_of(again, first)
    assert Deposit.objects.filter(player=player).count() == 1


def test_a_repeated_withdrawal_is_replayed_and_moves_money_once(api, player):
    fund(player, 100_00)
    first = withdrawal_request(api, "30.00", key="wd-1")
    with expect_no_change():
        replays = [withdrawal_request(api, "30.00", key="wd-1") for _ in range(3)]
    for replay in replays:
        assert_replay_of(replay, first)
    assert balances(player) == (70_00, 30_00)
    assert JournalEntry.objects.filter(event_type="withdraw_requested").count() == 1


def test_the_replay_is_the_first_answer_even_after_the_object_changed(api, player):
    # given a deposit created with a key, which the provider then completed
    first = deposit_request(api, "25.00", key="dep-1")
    opened = Deposit.objects.get(pk=first.json()["id"])
    complete_deposit(opened, actor=PSP)
    # when the request is repeated, then the original answer ("pending_provider") is replayed
    again = deposit_request(api, "25.00", key="dep-1")
    assert_replay_of(again, first)
    assert again.json()["state"] == "pending_provider"


def test_key_order_and_spacing_do_not_make_a_different_request(api):
    first = api.post(
        DEPOSITS, '{"amount": "25.00", "currency": "EUR"}', content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    again = api.post(
        DEPOSITS, '{ "currency":"EUR",\n "amount":"25.00" }', content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert_replay_of(again, first)
    assert Deposit.objects.count() == 1


def test_a_repeated_cancel_is_replayed(api, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    first = cancel_request(api, withdrawal.pk, key="cancel-1")
    assert first.status_code == 200
    with expect_no_change():
        again = cancel_request(api, withdrawal.pk, key="cancel-1")
    assert_replay_of(again, first)


def test_an_illegal_transition_outcome_is_stored_and_replayed(api, player):
    withdrawal = withdrawal_in_state("approved", player=player)
    first = cancel_request(api, withdrawal.pk, key="cancel-1")
    assert_problem(first, 409, "ILLEGAL_TRANSACTION_STATE_TRANSITION")
    again = cancel_request(api, withdrawal.pk, key="cancel-1")
    assert_replay_of(again, first)
    assert_problem(again, 409, "ILLEGAL_TRANSACTION_STATE_TRANSITION")


def test_an_insufficient_funds_outcome_is_stored_and_replayed_even_after_funding(api, player):
    # given a withdrawal refused for lack of funds
    fund(player, 10_00)
    first = withdrawal_request(api, "25.00", key="wd-1")
    body = assert_problem(first, 422, "INSUFFICIENT_FUNDS")
    assert (body["available"], body["requested"], body["currency"]) == ("10.00", "25.00", "EUR")
    # when the player gets more money and repeats the very same request with the same key
    fund(player, 100_00)
    with expect_no_change():
        again = withdrawal_request(api, "25.00", key="wd-1")
    # then the stored refusal is replayed and nothing is withdrawn; a new key is a new attempt
    assert_replay_of(again, first)
    assert not Withdrawal.objects.exists()
    assert withdrawal_request(api, "25.00", key="wd-2").status_code == 201


def test_a_limit_refusal_is_stored_replayed_and_audited_once(api, player, tenant):
    set_limits(tenant, daily_deposit_limit=20_00)
    first = deposit_request(api, "25.00", key="dep-1")
    assert_problem(first, 422, "TENANT_PAYMENT_LIMIT_EXCEEDED")
    with expect_no_change():
        again = deposit_request(api, "25.00", key="dep-1")
    assert_replay_of(again, first)
    assert AuditEvent.objects.filter(action="limit.refused").count() == 1


# Reuse and scope -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "other_body",
    [{"amount": "26.00", "currency": "EUR"}, {"amount": "25.00", "currency": "USD"}, {"amount": "25.00"}],
    ids=["amount", "currency", "missing-field"],
)
def test_the_same_key_with_a_different_body_is_refused(api, other_body):
    first = deposit_request(api, "25.00", key="dep-1")
    assert first.status_code == 201
    with expect_no_change():
        response = api.post(DEPOSITS, other_body, format="json", HTTP_IDEMPOTENCY_KEY="dep-1")
    assert_problem(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert REPLAYED not in response
    assert Deposit.objects.count() == 1


def test_the_same_cancel_key_for_another_withdrawal_is_refused(api, player):
    fund(player, 50_00)
    first, second = (Withdrawal.objects.get(pk=withdrawal_request(api, "25.00").json()["id"]) for _ in range(2))
    assert cancel_request(api, first.pk, key="cancel").status_code == 200
    with expect_no_change():
        response = cancel_request(api, second.pk, key="cancel")
    assert_problem(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert Withdrawal.objects.get(pk=second.pk).state == "requested"


def test_keys_are_scoped_per_caller(player, other_player, foreign_player):
    # given three players (two of one casino, one of another) using the same key
    responses = [
        deposit_request(client_for(p), "25.00", key="shared-key") for p in (player, other_player, foreign_player)
    ]
    # then each gets a deposit of their own, none is a replay
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert all(REPLAYED not in r for r in responses)
    assert len({r.json()["id"] for r in responses}) == 3
    for p, r in zip((player, other_player, foreign_player), responses, strict=True):
        assert Deposit.objects.get(pk=r.json()["id"]).player_id == p.pk
    # and a different body under the same key is still the caller's own business
    assert deposit_request(client_for(other_player), "99.00", key="shared-key").status_code == 422


def test_keys_are_scoped_per_operation(api, player):
    # given a key used for a deposit
    fund(player, 100_00)
    assert deposit_request(api, "25.00", key="k-1").status_code == 201
    # when the same key is used for a withdrawal with the same body, then it is a new operation
    withdrawal = withdrawal_request(api, "25.00", key="k-1")
    assert withdrawal.status_code == 201 and REPLAYED not in withdrawal
    # and for a cancel
    cancel = cancel_request(api, withdrawal.json()["id"], key="k-1")
    assert cancel.status_code == 200 and REPLAYED not in cancel
    assert balances(player) == (100_00, 0)


# Refusals before acting do not consume the key -------------------------------------------------


def test_a_validation_failure_does_not_use_up_the_key(api):
    # given a request refused as invalid
    refused = deposit_request(api, "1.001", key="dep-1")
    assert_problem(refused, 400, "VALIDATION_ERROR")
    assert not IdempotencyRecord.objects.exists()
    # when the corrected request is sent with the same key
    corrected = deposit_request(api, "1.00", key="dep-1")
    # then it runs (no IDEMPOTENCY_KEY_REUSED), and only the corrected one is remembered
    assert corrected.status_code == 201 and REPLAYED not in corrected
    assert_replay_of(deposit_request(api, "1.00", key="dep-1"), corrected)
    assert Deposit.objects.count() == 1


def test_a_currency_the_tenant_refuses_does_not_use_up_the_key(api):
    assert_problem(deposit_request(api, "5.00", "GBP", key="dep-1"), 400, "VALIDATION_ERROR")
    assert deposit_request(api, "5.00", "EUR", key="dep-1").status_code == 201


def test_a_suspended_tenant_refusal_does_not_use_up_the_key(api, tenant):
    tenant.status = tenant.Status.SUSPENDED
    tenant.save(update_fields=["status"])
    assert_problem(deposit_request(api, key="dep-1"), 403, "TENANT_SUSPENDED")
    tenant.status = tenant.Status.ACTIVE
    tenant.save(update_fields=["status"])
    response = deposit_request(api, key="dep-1")
    assert response.status_code == 201 and REPLAYED not in response


def test_a_cancel_of_an_unknown_withdrawal_does_not_use_up_the_key(api):
    assert_problem(cancel_request(api, "00000000-0000-0000-0000-000000000001", key="c"), 404, "NOT_FOUND")
    assert not IdempotencyRecord.objects.exists()


def test_a_malformed_body_does_not_use_up_the_key(api):
    response = api.post(DEPOSITS, '{"amount": "25.00",', content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert_problem(response, 400, "VALIDATION_ERROR")
    assert deposit_request(api, key="k").status_code == 201


# Expiry --------------------------------------------------------------------------------------


def _age_records(hours: float) -> None:
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=hours))


def test_a_key_is_still_replayed_within_24_hours(api):
    first = deposit_request(api, key="dep-1")
    _age_records(23)
    assert_replay_of(deposit_request(api, key="dep-1"), first)
    assert Deposit.objects.count() == 1


def test_an_expired_key_runs_the_same_request_afresh(api):
    # given a deposit made with a key more than 24 hours ago
    first = deposit_request(api, "25.00", key="dep-1")
    _age_records(25)
    # when the same request is sent with the same key
    again = deposit_request(api, "25.00", key="dep-1")
    # then it is a new deposit, not a replay, and the key is remembered afresh
    assert again.status_code == 201 and REPLAYED not in again
    assert again.json()["id"] != first.json()["id"]
    assert Deposit.objects.count() == 2
    assert_replay_of(deposit_request(api, "25.00", key="dep-1"), again)


def test_an_expired_key_can_carry_a_different_request(api, player):
    fund(player, 100_00)
    assert withdrawal_request(api, "10.00", key="wd-1").status_code == 201
    _age_records(25)
    response = withdrawal_request(api, "20.00", key="wd-1")
    assert response.status_code == 201 and response.json()["amount"] == "20.00"
    assert balances(player) == (70_00, 30_00)


def test_the_stored_body_is_the_json_the_client_received(api):
    response = deposit_request(api, key="dep-1")
    record = IdempotencyRecord.objects.get()
    assert (record.status, record.response_status, record.operation) == ("completed", 201, "deposits.create")
    assert json.loads(record.response_body) == response.json()
