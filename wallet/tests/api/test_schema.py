"""The OpenAPI 3 document describes the contract the API actually speaks."""

import json

import pytest

from core.api.problems import known_problem_types
from players.models import KycStatus
from players.tests.factories import PlayerFactory
from tenants.models import CurrencyLimit, PaymentPolicy
from wallet.tests.builders import deposit_in_state, withdrawal_in_state
from wallet.tests.factories import fund

from .helpers import (
    EXCLUSIONS,
    LIMITS,
    TRANSACTIONS,
    WALLET,
    assert_problem,
    cancel_request,
    client_for,
    deposit_request,
    deposit_url,
    post_exclusion,
    put_limit,
    receipt_url,
    withdrawal_request,
)

pytestmark = pytest.mark.django_db

SCHEMA = "/api/v1/schema/"
MONEY_POSTS = [
    ("/api/v1/deposits/", "post"),
    ("/api/v1/withdrawals/", "post"),
    ("/api/v1/withdrawals/{withdrawal_id}/cancel/", "post"),
]
READS = [
    ("/api/v1/wallet/", "get"),
    ("/api/v1/deposits/{deposit_id}/", "get"),
    ("/api/v1/transactions/", "get"),
    ("/api/v1/transactions/{transaction_id}/", "get"),
    ("/api/v1/limits/", "get"),
    ("/api/v1/exclusions/", "get"),
]
# Writes that move no money: no Idempotency-Key required (docs/idempotency.md).
PROTECTION_WRITES = [("/api/v1/limits/", "put"), ("/api/v1/exclusions/", "post")]
PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def document(client) -> dict:
    response = client.get(SCHEMA, HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return json.loads(response.content)


def _component(document, ref_holder) -> dict:
    ref = ref_holder["$ref"]
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


def _response_schema(document, path, method, status, media="application/json") -> dict:
    return _component(document, document["paths"][path][method]["responses"][str(status)]["content"][media]["schema"])


def test_the_schema_is_openapi_3_as_json_by_accept_header_or_format(client, document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]
    by_format = client.get(SCHEMA, {"format": "json"})
    assert by_format.status_code == 200
    assert json.loads(by_format.content)["paths"].keys() == document["paths"].keys()


def test_every_player_operation_is_documented(document):
    for path, method in MONEY_POSTS + READS + PROTECTION_WRITES:
        assert method in document["paths"].get(path, {}), f"{method.upper()} {path} missing"


@pytest.mark.parametrize(("path", "method"), MONEY_POSTS)
def test_money_posts_require_the_idempotency_key_header(document, path, method):
    parameters = document["paths"][path][method]["parameters"]
    (key,) = [p for p in parameters if p["name"] == "Idempotency-Key"]
    assert key["in"] == "header"
    assert key["required"] is True
    assert key["schema"]["type"] == "string"


@pytest.mark.parametrize(("path", "method"), READS)
def test_reads_do_not_ask_for_an_idempotency_key(document, path, method):
    parameters = document["paths"][path][method].get("parameters", [])
    assert "Idempotency-Key" not in {p["name"] for p in parameters}


def test_writes_that_move_no_money_do_not_require_an_idempotency_key(document):
    put_parameters = document["paths"]["/api/v1/limits/"]["put"].get("parameters", [])
    assert "Idempotency-Key" not in {p["name"] for p in put_parameters}
    post_parameters = document["paths"]["/api/v1/exclusions/"]["post"]["parameters"]
    (key,) = [p for p in post_parameters if p["name"] == "Idempotency-Key"]
    assert key["in"] == "header" and not key.get("required", False)


@pytest.mark.parametrize(("path", "method"), MONEY_POSTS + READS + PROTECTION_WRITES)
def test_error_responses_are_problem_json(document, path, method):
    responses = document["paths"][path][method]["responses"]
    errors = {status: body for status, body in responses.items() if int(status) >= 400}
    expected = {"401", "404"}
    if (path, method) in MONEY_POSTS:
        expected = {"400", "401", "403", "404", "409", "415", "422", "429", "500"}
    elif (path, method) in PROTECTION_WRITES:
        expected = {"400", "401", "403", "415", "429", "500"}
    assert expected <= set(errors)
    for status, body in errors.items():
        assert set(body["content"]) == {PROBLEM_JSON}, f"{method} {path} {status}"
        assert body["content"][PROBLEM_JSON]["schema"]["$ref"].endswith("/Problem")


def test_the_problem_schema_has_the_rfc_9457_members_and_the_error_code(document):
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "error_code"} <= set(problem["required"])
    assert {"errors", "action", "limit", "used", "requested", "currency", "from_state", "to_state", "tx_type"} <= set(
        problem["properties"]
    )


def test_amounts_are_documented_as_decimal_strings(document):
    request = _component(
        document, document["paths"]["/api/v1/deposits/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    )
    assert set(request["required"]) == {"amount", "currency"}
    assert request["properties"]["amount"]["type"] == "string"
    deposit = _response_schema(document, "/api/v1/deposits/", "post", 201)
    assert deposit["properties"]["amount"]["type"] == "string"


def test_token_authentication_is_declared(document):
    schemes = document["components"]["securitySchemes"]
    assert any(s["type"] == "apiKey" and s["in"] == "header" and s["name"] == "Authorization" for s in schemes.values())


def _assert_matches(body: dict, schema: dict) -> None:
    """The response has exactly the documented properties, and every required one."""
    assert set(body) == set(schema["properties"]), set(body) ^ set(schema["properties"])
    assert set(schema.get("required", [])) <= set(body)


def test_responses_have_exactly_the_documented_fields(api, player, document):
    # given a funded player with a deposit and a withdrawal
    fund(player, 100_00)
    deposit = deposit_request(api).json()
    withdrawal = withdrawal_request(api, "10.00").json()
    paid = withdrawal_in_state("paid", player=player)
    completed = deposit_in_state("completed", player=player)
    # then every read and write answers with the documented shape
    _assert_matches(deposit, _response_schema(document, "/api/v1/deposits/", "post", 201))
    _assert_matches(withdrawal, _response_schema(document, "/api/v1/withdrawals/", "post", 201))
    _assert_matches(
        api.get(deposit_url(completed.pk)).json(),
        _response_schema(document, "/api/v1/deposits/{deposit_id}/", "get", 200),
    )
    wallet_list = api.get(WALLET).json()
    wallet_schema = _response_schema(document, "/api/v1/wallet/", "get", 200)
    _assert_matches(wallet_list, wallet_schema)
    for row in wallet_list["wallets"]:
        _assert_matches(row, _component(document, wallet_schema["properties"]["wallets"]["items"]))
    page_schema = _response_schema(document, "/api/v1/transactions/", "get", 200)
    page = api.get(TRANSACTIONS).json()
    _assert_matches(page, page_schema)
    for row in page["results"]:
        _assert_matches(row, _component(document, page_schema["properties"]["results"]["items"]))
    receipt_schema = _response_schema(document, "/api/v1/transactions/{transaction_id}/", "get", 200)
    for tx in (deposit["id"], withdrawal["id"], paid.pk, completed.pk):
        _assert_matches(api.get(receipt_url(tx)).json(), receipt_schema)


def test_protection_responses_have_exactly_the_documented_fields(api, document):
    # given a limit with a raise waiting, and a break
    put_limit(api, amount="100.00")
    limit = put_limit(api, amount="200.00").json()
    created = post_exclusion(api, {"kind": "timeout", "days": 3})
    assert created.status_code == 201
    # then every answer has the documented shape
    limit_schema = _response_schema(document, "/api/v1/limits/", "put", 200)
    _assert_matches(limit, limit_schema)
    _assert_matches(limit["pending"], _component(document, limit_schema["properties"]["pending"]["allOf"][0]))
    listed = api.get(LIMITS).json()
    list_schema = _response_schema(document, "/api/v1/limits/", "get", 200)
    _assert_matches(listed, list_schema)
    _assert_matches(listed["limits"][0], _component(document, list_schema["properties"]["limits"]["items"]))
    _assert_matches(created.json(), _response_schema(document, "/api/v1/exclusions/", "post", 201))
    exclusions = api.get(EXCLUSIONS).json()
    exclusions_schema = _response_schema(document, "/api/v1/exclusions/", "get", 200)
    _assert_matches(exclusions, exclusions_schema)
    _assert_matches(
        exclusions["exclusions"][0], _component(document, exclusions_schema["properties"]["exclusions"]["items"])
    )


def test_player_protection_problems_have_only_documented_members(api, player, tenant, document):
    problem = document["components"]["schemas"]["Problem"]
    bodies = {}
    requested = withdrawal_in_state("requested", player=player)
    # over the player's own limit
    put_limit(api, amount="10.00")
    bodies["PLAYER_LIMIT_EXCEEDED"] = deposit_request(api, "20.00")
    # a deposit past the KYC threshold, unverified; a withdrawal, unverified
    unverified = PlayerFactory(tenant=tenant, kyc_status=KycStatus.UNVERIFIED)
    CurrencyLimit.objects.update_or_create(
        policy=PaymentPolicy.objects.get(tenant=tenant), currency="EUR", defaults={"kyc_deposit_threshold": 1_00}
    )
    fund(unverified, 5_00)
    bodies["KYC_REQUIRED deposit"] = deposit_request(client_for(unverified), "1.00")
    bodies["KYC_REQUIRED withdrawal"] = withdrawal_request(client_for(unverified), "1.00")
    # a cancel where reverse withdrawals are forbidden
    PaymentPolicy.objects.filter(tenant=tenant).update(player_cancel_allowed=False)
    bodies["WITHDRAWAL_CANCEL_DISABLED"] = cancel_request(api, requested.pk)
    # a shorter exclusion, then a deposit while excluded
    post_exclusion(api, {"kind": "timeout", "days": 10})
    bodies["EXCLUSION_WOULD_SHORTEN"] = post_exclusion(api, {"kind": "timeout", "days": 2})
    bodies["PLAYER_EXCLUDED"] = deposit_request(api, "1.00")
    for name, response in bodies.items():
        body = json.loads(response.content)
        assert body["error_code"] == name.split()[0], (name, body)
        assert set(body) <= set(problem["properties"]), (name, set(body) - set(problem["properties"]))


def test_problems_have_only_documented_members(api, player, document):
    problem = document["components"]["schemas"]["Problem"]
    fund(player, 10_00)
    for response in (
        withdrawal_request(api, "20.00"),
        withdrawal_request(api, "1.001"),
        deposit_request(api, key=None),
        api.get(deposit_url("00000000-0000-0000-0000-000000000000")),
    ):
        body = json.loads(response.content)
        assert set(body) <= set(problem["properties"]), set(body) - set(problem["properties"])


@pytest.mark.parametrize("error_code", sorted(known_problem_types()))
def test_every_problem_type_uri_resolves(client, error_code):
    slug = error_code.lower().replace("_", "-")
    response = client.get(f"/api/v1/problems/{slug}/")
    assert response.status_code == 200
    assert response.json()["error_code"] == error_code
    assert response.json()["status"] == known_problem_types()[error_code][0]


def test_an_unknown_problem_type_is_404(client):
    assert_problem(client.get("/api/v1/problems/no-such-problem/"), 404, "NOT_FOUND")


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_documentation_pages_render(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"/api/v1/schema/" in response.content
