"""seed_demo: its JSON for scripts, tokens that work and stay the same, and the URLs it keeps."""

import io
import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from core.actors import Actor
from core.models import AuditEvent
from games.models import Game, GameProviderAccount
from payouts.models import ProviderAccount
from payouts.sandbox.models import SandboxMerchant
from players.kyc import set_kyc_status
from players.models import KycCheck, Player
from tenants.models import OperatorToken
from wallet.models import Withdrawal

pytestmark = pytest.mark.django_db

WEBHOOKS = "/api/v1/webhooks/psp/sandbox/"


def seed(*args) -> dict:
    out = io.StringIO()
    call_command("seed_demo", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def api(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def no_url_settings(monkeypatch):
    """As on a machine where neither BASE_URL nor SANDBOX_PSP_URL is set."""
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.delenv("SANDBOX_PSP_URL", raising=False)


def test_the_json_keeps_its_shape(no_url_settings):
    summary = seed()
    assert set(summary) == {"base_url", "admin_url", "tenants", "superuser", "sandbox_psp_url"}
    assert set(summary["superuser"]) == {"username", "password", "token"}
    assert [t["slug"] for t in summary["tenants"]] == ["aurora", "borealis"]
    for tenant in summary["tenants"]:
        assert set(tenant) == {
            "slug",
            "name",
            "currencies",
            "operators",
            "psp",
            "players",
            "game_provider",
            "sandbox_game",
        }
        assert [set(op) for op in tenant["operators"]] == [{"username", "password", "token", "role"}] * 5
        for player in tenant["players"]:
            assert {"username", "password", "token", "player_id", "kyc_status", "balances"} == set(player)
        assert {"webhook_url", "webhook_signing_secret", "sandbox_url", "merchant_id"} <= set(tenant["psp"])
        assert set(tenant["game_provider"]) == {"slug", "signing_secret", "api_url"}
        assert {"game", "name", "url", "launch_url", "report_url"} == set(tenant["sandbox_game"])


def test_each_casino_gets_a_game_provider_and_the_sandbox_game_once(no_url_settings, monkeypatch):
    monkeypatch.setenv("SANDBOX_GAME_URL", "http://127.0.0.1:9102")
    first = seed()
    again = seed("--game-url", "http://games.example:9202/")
    for before, after in zip(first["tenants"], again["tenants"], strict=True):
        slug = f"sandbox-{before['slug']}"
        account = GameProviderAccount.objects.get(slug=slug)
        assert account.tenant.slug == before["slug"]
        # the same account, secret and game on a re-run; the secret is the account's active one
        assert after["game_provider"] == before["game_provider"]
        assert before["game_provider"]["slug"] == slug
        assert before["game_provider"]["signing_secret"].startswith("whsec_")
        assert account.secrets.get(retired_at__isnull=True).secret == before["game_provider"]["signing_secret"]
        assert after["sandbox_game"]["game"] == before["sandbox_game"]["game"]
        game = Game.objects.get(pk=before["sandbox_game"]["game"], account=account)
        # and the launch URL follows --game-url (SANDBOX_GAME_URL by default)
        assert before["sandbox_game"]["url"] == "http://127.0.0.1:9102"
        assert after["sandbox_game"]["url"] == "http://games.example:9202"
        assert game.launch_url == f"http://games.example:9202/play/{slug}/slot?session={{session_token}}"
        # so does the daily report reconciliation reads
        assert account.report_url == f"http://games.example:9202/reports/daily.csv?date={{date}}&provider={slug}"
    assert GameProviderAccount.objects.count() == 2
    assert Game.objects.count() == 2
    assert AuditEvent.objects.filter(action="game_provider.created").count() == 2


def test_a_seeded_player_starts_the_sandbox_game_at_its_launch_url(no_url_settings):
    aurora = seed("--game-url", "http://127.0.0.1:9102")["tenants"][0]
    alice = aurora["players"][0]
    answer = api(alice["token"]).post(
        "/api/v1/games/sessions/", {"game": aurora["sandbox_game"]["game"], "currency": "EUR"}, format="json"
    )
    assert answer.status_code == 201, answer.content
    token = answer.json()["session_token"]
    # the placeholder the game wallet fills is the one the sandbox game reads
    assert answer.json()["launch_url"] == f"http://127.0.0.1:9102/play/sandbox-aurora/slot?session={token}"


def test_every_printed_token_works_where_it_belongs(no_url_settings):
    summary = seed()
    aurora = summary["tenants"][0]
    # operators' tokens are expiring operator API tokens, and open the operator API
    for operator in aurora["operators"]:
        assert operator["token"].startswith("op_")
        assert api(operator["token"]).get("/api/v1/admin/withdrawals/").status_code == 200, operator["username"]
    assert api(summary["superuser"]["token"]).get("/api/v1/admin/withdrawals/").status_code == 200
    # players' tokens open the player API
    for player in aurora["players"]:
        assert api(player["token"]).get("/api/v1/wallet/").status_code == 200, player["username"]
    # and an operator's token opens nothing in the player API, nor a player's in the operator API
    assert api(aurora["operators"][0]["token"]).get("/api/v1/wallet/").status_code == 401
    assert api(aurora["players"][0]["token"]).get("/api/v1/admin/withdrawals/").status_code == 401


def test_running_again_prints_the_same_tokens_and_makes_none(no_url_settings):
    first = seed()
    tokens, made = OperatorToken.objects.count(), AuditEvent.objects.filter(action="operator_token.created").count()
    again = seed()

    def credentials(summary):
        people = [p for t in summary["tenants"] for p in t["operators"] + t["players"]] + [summary["superuser"]]
        return {p["username"]: p["token"] for p in people}

    assert credentials(again) == credentials(first)
    assert OperatorToken.objects.count() == tokens == 11  # 5 operators of 2 casinos, the superuser
    assert AuditEvent.objects.filter(action="operator_token.created").count() == made == 11


def test_an_expired_or_revoked_demo_token_is_made_again_with_the_same_key(no_url_settings):
    first = seed()
    finance = first["tenants"][0]["operators"][1]
    OperatorToken.objects.filter(user__username=finance["username"]).update(expires_at=timezone.now())
    assert api(finance["token"]).get("/api/v1/admin/withdrawals/").status_code == 401
    # when seed_demo runs again, then the same key works again: the expired token was revoked and made anew
    assert seed()["tenants"][0]["operators"][1]["token"] == finance["token"]
    assert api(finance["token"]).get("/api/v1/admin/withdrawals/").status_code == 200
    assert AuditEvent.objects.filter(action="operator_token.revoked").count() == 1


def test_without_base_urls_the_configured_urls_are_kept(no_url_settings):
    # given demo casinos configured for a web app on port 9000 and a PSP on 9001 (`make run PORT=9000 ...`)
    seed("--base-url", "http://127.0.0.1:9000", "--psp-url", "http://127.0.0.1:9001")
    # when seed_demo runs again without saying where they are
    summary = seed()
    # then every casino keeps its webhook URL and PSP URL, and the summary names them
    for tenant in summary["tenants"]:
        merchant = SandboxMerchant.objects.get(merchant_id=tenant["psp"]["merchant_id"])
        account = ProviderAccount.objects.get(tenant__slug=tenant["slug"])
        assert merchant.webhook_url == tenant["psp"]["webhook_url"] == f"http://127.0.0.1:9000{WEBHOOKS}"
        assert account.base_url == tenant["psp"]["sandbox_url"] == "http://127.0.0.1:9001"
    assert (summary["base_url"], summary["admin_url"]) == ("http://127.0.0.1:9000", "http://127.0.0.1:9000/admin/")
    assert summary["sandbox_psp_url"] == "http://127.0.0.1:9001"


def test_a_url_changed_by_hand_is_kept_too(no_url_settings):
    seed()
    SandboxMerchant.objects.filter(merchant_id="demo-aurora").update(webhook_url="https://casino.example/hooks/psp/")
    seed()
    assert SandboxMerchant.objects.get(merchant_id="demo-aurora").webhook_url == "https://casino.example/hooks/psp/"


def test_a_fresh_database_gets_the_default_ports(no_url_settings, settings):
    settings.SANDBOX_PSP_URL = "http://127.0.0.1:8001"
    summary = seed()
    assert summary["tenants"][0]["psp"]["webhook_url"] == f"http://127.0.0.1:8000{WEBHOOKS}"
    assert summary["sandbox_psp_url"] == "http://127.0.0.1:8001"


def test_given_urls_replace_the_configured_ones(no_url_settings, monkeypatch):
    seed("--base-url", "http://127.0.0.1:9000")
    # the environment says it as well as the options do (the Makefile exports SANDBOX_PSP_URL)
    monkeypatch.setenv("BASE_URL", "http://127.0.0.1:7000")
    monkeypatch.setenv("SANDBOX_PSP_URL", "http://127.0.0.1:7001")
    summary = seed()
    assert summary["tenants"][1]["psp"]["webhook_url"] == f"http://127.0.0.1:7000{WEBHOOKS}"
    assert ProviderAccount.objects.get(tenant__slug="borealis").base_url == "http://127.0.0.1:7001"


def test_operator_tokens_last_the_configured_days(no_url_settings, settings):
    settings.OPERATOR_TOKEN_DAYS = 30
    seed()
    soonest = OperatorToken.objects.order_by("expires_at").first().expires_at
    assert timezone.now() + timedelta(days=29) < soonest <= timezone.now() + timedelta(days=30)


def test_the_printed_logins_name_every_token(no_url_settings):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    summary = seed()
    people = [p for t in summary["tenants"] for p in t["operators"] + t["players"]] + [summary["superuser"]]
    for person in people:
        line = next(line for line in text.splitlines() if f" {person['username']} " in line)
        assert person["token"] in line, line


def test_most_players_are_verified_and_one_per_casino_is_not(no_url_settings):
    summary = seed()
    statuses = {t["slug"]: {p["username"]: p["kyc_status"] for p in t["players"]} for t in summary["tenants"]}
    assert statuses == {
        "aurora": {"aurora-alice": "verified", "aurora-bob": "verified", "aurora-carol": "unverified"},
        "borealis": {"borealis-deniz": "verified", "borealis-emre": "unverified"},
    }
    # verified by the casino's finance operator, with a reason and a document reference, and audited
    check = KycCheck.objects.get(player__user__username="aurora-alice")
    assert (check.from_status, check.to_status, check.actor_label) == ("unverified", "verified", "aurora-finance")
    assert check.reason and check.document_ref
    assert AuditEvent.objects.filter(action="kyc.status_changed").count() == 3
    # the unverified players deposited but asked for no withdrawal (the casinos require KYC for one)
    assert not Withdrawal.objects.filter(player__user__username__in=["aurora-carol", "borealis-emre"]).exists()
    assert Withdrawal.objects.filter(player__user__username="aurora-alice").count() == 3
    assert summary["tenants"][0]["players"][2]["balances"]["EUR"]["available"] == "750.00"


def test_running_again_keeps_a_kyc_status_an_operator_changed(no_url_settings):
    seed()
    alice = Player.objects.get(user__username="aurora-alice")
    admin = get_user_model().objects.get(username="aurora-admin")
    set_kyc_status(alice, status="rejected", actor=Actor.operator(admin), reason="Document expired")
    # when seed_demo runs again, then alice stays rejected and nothing is checked again
    again = seed()
    assert again["tenants"][0]["players"][0]["kyc_status"] == "rejected"
    assert KycCheck.objects.filter(player=alice).count() == 2


def test_one_demo_player_owes_the_casino_after_chargebacks_and_running_again_charges_nothing_back(no_url_settings):
    # bob's two card deposits (500.00 and 250.00 EUR) were charged back after he had 50.00 paid out
    # and 120.00 held for a withdrawal: 580.00 available covered all but 170.00, which he owes
    aurora = seed()["tenants"][0]
    players = {p["username"]: p for p in aurora["players"]}
    bob, alice = players["aurora-bob"], players["aurora-alice"]
    assert bob["balances"]["EUR"] == {"available": "0.00", "held": "120.00", "receivable": "170.00"}
    assert alice["balances"]["EUR"]["receivable"] == "0.00"
    # so his account is restricted, and alice's is not
    refused = api(bob["token"]).post(
        "/api/v1/withdrawals/", {"amount": "10.00", "currency": "EUR"}, format="json", HTTP_IDEMPOTENCY_KEY="demo-1"
    )
    assert (refused.status_code, refused.json()["error_code"]) == (403, "PLAYER_ACCOUNT_RESTRICTED")
    # and seeding again charges nothing back twice
    again = {p["username"]: p for p in seed()["tenants"][0]["players"]}
    assert again["aurora-bob"]["balances"] == bob["balances"]
