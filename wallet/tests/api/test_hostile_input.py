"""Hostile request bodies to the API never reach a 500 and move nothing: over 1 MiB is 413 unread; JSON
nested deeper than 32 levels, NUL characters or lone surrogates (in values or keys) are 400 with the reason."""

import json

import pytest
from django.conf import settings
from django.test import Client

from core.api.problems import known_problem_types
from core.models import IdempotencyRecord
from wallet.tests.invariants import expect_no_change

from .helpers import WITHDRAWALS, assert_problem, new_key

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


def post_raw(api, body: bytes, path: str = WITHDRAWALS):
    return api.generic("POST", path, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=new_key())


def money_request(**extra) -> dict:
    return {"amount": "5.00", "currency": "EUR", **extra}


def nested(depth: int) -> object:
    value: object = "deep"
    for _ in range(depth):
        value = [value]
    return value


# -- size ------------------------------------------------------------------------------------------


def test_a_body_over_1_mib_is_413_before_authentication_or_parsing(api, django_assert_num_queries):
    body = json.dumps(money_request(note="x" * MIB)).encode()
    with expect_no_change(), django_assert_num_queries(0):
        response = post_raw(api, body)
    problem = assert_problem(response, 413, "PAYLOAD_TOO_LARGE")
    assert problem["max_bytes"] == MIB and str(MIB) in problem["detail"]
    assert not IdempotencyRecord.objects.exists()


def test_a_body_of_exactly_1_mib_is_read(api):
    padding = MIB - len(json.dumps(money_request(note="")))
    body = json.dumps(money_request(note="x" * padding)).encode()
    assert len(body) == MIB
    response = post_raw(api, body)
    assert response.status_code != 413, response.content[:300]


def test_without_the_middleware_djangos_own_limit_is_the_same_413_problem(api, settings):
    # given Django's DATA_UPLOAD_MAX_MEMORY_SIZE alone (which raises RequestDataTooBig when the body is read)
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "core.middleware.RequestBodyLimitMiddleware"]
    body = json.dumps(money_request(note="x" * MIB)).encode()
    with expect_no_change():
        response = post_raw(api, body)
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("length", ["²", "-1", "12abc", ""])
def test_a_malformed_content_length_is_no_server_error(api, length):
    response = api.generic(
        "POST",
        WITHDRAWALS,
        b"{}",
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=new_key(),
        CONTENT_LENGTH=length,
    )
    assert response.status_code < 500, response.content[:300]


def test_an_oversized_console_form_is_413_not_a_server_error():
    response = Client().post(
        "/console/login/", data="username=" + "a" * (MIB + 1), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413


def test_the_problem_type_resolves_and_the_schema_names_it(client):
    assert known_problem_types()["PAYLOAD_TOO_LARGE"] == (413, "Payload too large")
    assert client.get("/api/v1/problems/payload-too-large/").json()["status"] == 413
    document = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/v1/withdrawals/", "/api/v1/deposits/", "/api/v1/webhooks/psp/{provider}/"):
        responses = document["paths"][path]["post"]["responses"]
        assert "PAYLOAD_TOO_LARGE" in responses["413"]["description"], path


# -- shape -----------------------------------------------------------------------------------------

HOSTILE = {
    "nested 33 deep": (json.dumps(money_request(note=nested(32))), "nested deeper than 32 levels"),
    "nested 100,000 deep": ("[" * 100_000 + "]" * 100_000, "nested deeper than 32 levels"),
    "objects nested 150,000 deep, unclosed": ('{"a":' * 150_000, "nested deeper than 32 levels"),
    "a NUL in a value": ('{"amount": "5.00", "currency": "EUR", "note": "a\\u0000b"}', "NUL character"),
    "a NUL in a key": ('{"amount": "5.00", "currency": "EUR", "no\\u0000te": 1}', "a key contains a NUL"),
    "a lone high surrogate": ('{"amount": "5.00", "currency": "EUR", "note": "\\ud83d"}', "lone surrogate"),
    "a lone low surrogate in a key": ('{"amount": "5.00", "currency": "EUR", "\\ude00": 1}', "lone surrogate"),
    "reversed surrogates": ('{"amount": "5.00", "currency": "EUR", "n": "\\ude00\\ud83d"}', "lone surrogate"),
    "not UTF-8": (b'{"amount": "5.00", "currency": "EUR", "note": "\xff"}', "not UTF-8"),
    "NaN": ('{"amount": NaN, "currency": "EUR"}', "NaN"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_json_is_a_400_with_the_reason_and_moves_nothing(api, player, case):
    body, reason = HOSTILE[case]
    body = body if isinstance(body, bytes) else body.encode()
    with expect_no_change():
        response = post_raw(api, body)
    problem = assert_problem(response, 400, "VALIDATION_ERROR")
    assert reason in problem["detail"], problem
    assert not IdempotencyRecord.objects.exists()


def test_the_refusal_names_where_the_bad_string_is(api):
    body = b'{"amount": "5.00", "currency": "EUR", "meta": {"tags": ["ok", "bad\\u0000"]}}'
    assert "$.meta.tags[1]" in assert_problem(post_raw(api, body), 400, "VALIDATION_ERROR")["detail"]


def test_32_levels_and_paired_surrogates_are_accepted_by_the_parser(api):
    # (the serializer then refuses the unknown shape of `amount`, which shows the parser let it through)
    body = json.dumps({"amount": nested(31), "currency": "EUR", "note": "\U0001f600"}, ensure_ascii=True).encode()
    problem = assert_problem(post_raw(api, body), 400, "VALIDATION_ERROR")
    assert "amount" in problem["errors"], problem


def test_settings_keep_the_limit_at_1_mib():
    assert settings.MAX_REQUEST_BODY_BYTES == settings.DATA_UPLOAD_MAX_MEMORY_SIZE == MIB
