"""Schemathesis against the live OpenAPI schema: no 5xx, every status, content type and
body as documented, stateful links followed, and no response ever carrying another
tenant's data, for a player and for an operator of another tenant."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from core.actors import Actor
from payouts.tests.factories import ProviderAccountFactory
from players.tests.factories import PlayerFactory
from tenants.models import OperatorMembership
from tenants.tests.factories import OperatorFactory, TenantFactory, operator_api_key
from wallet.services import request_withdrawal
from wallet.tests.factories import fund

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "response_schema_conformance",
        "content_type_conformance",
        "no_foreign_tenant_data",
    ]
)
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def run_schemathesis(base_url: str, token: str, tmp_path: Path, markers: list[str], max_examples: int = 25):
    st = Path(sys.executable).with_name("st")
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS), "FOREIGN_TENANT_MARKERS": json.dumps(markers)}
    command = [
        str(st), "run", f"{base_url}/api/v1/schema/",
        "--header", f"Authorization: Token {token}",
        "--checks", CHECKS,
        "--max-examples", str(max_examples),
        "--seed", "20261121",
        "--generation-database", "none",
        "--no-color",
        "--request-timeout", "30",
        "--workers", "1",
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=900, env=env)


@pytest.fixture
def other_tenant_data():
    """A second casino with a funded player and withdrawals: what nobody else may see."""
    tenant = TenantFactory(slug="other-casino-7f3k", allowed_currencies=["EUR"])
    ProviderAccountFactory(tenant=tenant)
    player = PlayerFactory(tenant=tenant)
    fund(player, 500_000, "EUR")
    withdrawals = [
        request_withdrawal(player=player, amount=1_000 + n, currency="EUR", actor=Actor.player(player.user))
        for n in range(3)
    ]
    markers = [str(w.pk) for w in withdrawals] + [w.reference for w in withdrawals] + [tenant.slug]
    return tenant, markers


def _assert_clean(result):
    summary = result.stdout[-5000:] + result.stderr[-2000:]
    assert result.returncode == 0, summary
    assert "passed" in result.stdout, summary


def test_player_api_conforms_to_its_schema(live_server, settings, tmp_path, other_tenant_data):
    # given a funded player with a token, another casino's data, and no rate limit in the way
    settings.API_PLAYER_RATE = "1000000/min"
    _, markers = other_tenant_data
    player = PlayerFactory(tenant__allowed_currencies=["EUR", "USD", "JPY"])
    ProviderAccountFactory(tenant=player.tenant)
    fund(player, 10_000_000, "EUR")
    token = Token.objects.create(user=player.user).key
    # when schemathesis runs every operation, stateful links included, then it found nothing
    _assert_clean(run_schemathesis(live_server.url, token, tmp_path, markers))


def test_an_operator_of_another_tenant_finds_nothing_to_see(live_server, settings, tmp_path, other_tenant_data):
    # given a finance operator of one casino and another casino's withdrawals
    settings.API_PLAYER_RATE = "1000000/min"
    _, markers = other_tenant_data
    operator = OperatorFactory(role=OperatorMembership.Role.FINANCE)
    ProviderAccountFactory(tenant=operator.tenant)
    token = operator_api_key(operator.user)
    # when schemathesis runs every operation with the operator's token, then no response leaks
    _assert_clean(run_schemathesis(live_server.url, token, tmp_path, markers, max_examples=20))
