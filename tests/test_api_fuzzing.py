"""Schemathesis against the live OpenAPI schema, as a player: no 5xx, and every status,
content type and body conforms to the schema. Runs the `st` CLI on a live server."""

import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from payouts.tests.factories import ProviderAccountFactory
from wallet.tests.factories import PlayerFactory, fund

CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def run_schemathesis(base_url: str, token: str, tmp_path: Path, max_examples: int = 25) -> subprocess.CompletedProcess:
    st = Path(sys.executable).with_name("st")
    return subprocess.run(
        [
            str(st),
            "run",
            f"{base_url}/api/v1/schema/",
            "--header",
            f"Authorization: Token {token}",
            "--checks",
            CHECKS,
            "--max-examples",
            str(max_examples),
            "--seed",
            "20261121",
            "--generation-database",
            "none",
            "--no-color",
            "--request-timeout",
            "30",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )


def test_player_api_conforms_to_its_schema(live_server, settings, tmp_path):
    # given a funded player with a token, and no rate limit in the way of the fuzzer
    settings.API_PLAYER_RATE = "1000000/min"
    player = PlayerFactory(tenant__allowed_currencies=["EUR", "USD", "JPY"])
    ProviderAccountFactory(tenant=player.tenant)
    fund(player, 10_000_000, "EUR")
    token = Token.objects.create(user=player.user).key
    # when schemathesis runs every operation, stateful links included
    result = run_schemathesis(live_server.url, token, tmp_path)
    # then it found nothing
    summary = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, summary
    assert "passed" in result.stdout and "failed" not in result.stdout.split("SUMMARY")[-1], summary
