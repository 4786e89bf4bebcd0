"""End to end, in a real browser: a demo player opens the sandbox slot from the casino and plays;
the game's signed calls move the casino's wallet, and the player sees it on both sides.

It uses
only public contracts: seed_demo's JSON (each casino's game provider slug and secret, the
sandbox game's id and URL; wired through backoffice/management/demo_games.py), the player
API's `POST games/sessions/` and the game's own pages, served by the game's real server on
a free port (the process `make run` starts, in a thread here).
"""

import csv
import io
import json
import urllib.request
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from games.sandbox import rng
from games.sandbox.money import to_minor, to_text
from games.sandbox.server import build_game, start
from wallet.models import JournalEntry, Wallet
from wallet.services import payouts as wallet_payouts
from wallet.tests.browser import chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

SEED = "end-to-end"
PASSWORD = "demo-pass-2026"


@pytest.fixture(scope="module")
def e2e_browser(django_db_setup):
    with chromium() as opened:
        yield opened


@pytest.fixture
def game_server(tmp_path, monkeypatch):
    """The sandbox game's server, with its own directory; seed_demo registers the casinos there."""
    monkeypatch.setenv("SANDBOX_GAME_DIR", str(tmp_path))
    game = build_game(directory=tmp_path, seed=SEED)
    server, stop = start(game, "127.0.0.1", 0)
    origin = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("SANDBOX_GAME_URL", origin)
    yield game, origin
    stop.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def demo(live_server, game_server, settings, monkeypatch):
    """The demo casinos, pointed at the live server (their API) and the game server (their launch URLs).

    No PSP runs here: the payout that the demo history's approval releases is not sent (in a test whose
    transactions commit, an eager dispatch would fail it before the history marks it paid)."""
    monkeypatch.setattr(wallet_payouts, "send_task_on_commit", lambda *args, **kwargs: None)
    settings.API_PLAYER_RATE = "100000/min"
    settings.OPERATOR_2FA_REQUIRED = False
    out = io.StringIO()
    call_command("seed_demo", "--json", "--base-url", live_server.url, stdout=out)
    summary = json.loads(out.getvalue())
    return {tenant["slug"]: tenant for tenant in summary["tenants"]}


@pytest.fixture
def page(e2e_browser):
    context = e2e_browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-US")
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/play/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#balance-rows tr[data-currency=EUR]")


def open_game(page, game_origin: str, name: str = "Sandbox slot") -> str:
    """What a player does to open a game: Play on the player page's Games section, which starts a session
    (POST games/sessions/) and opens the game's launch URL; returns that URL."""
    games = page.get_by_test_id("games")
    games.get_by_test_id("games-currency").select_option("EUR")
    games.get_by_role("button", name=f"Play {name}").click()
    page.wait_for_url(f"{game_origin}/play/**")
    return page.url


def test_a_player_plays_the_sandbox_slot_and_the_wallet_moves(page, live_server, game_server, demo):
    game, game_origin = game_server
    aurora = demo["aurora"]
    alice = next(p for p in aurora["players"] if p["username"] == "aurora-alice")
    assert aurora["game_provider"]["signing_secret"].startswith("whsec_")
    assert aurora["sandbox_game"]["url"] == game_origin
    before = Wallet.objects.get(player_id=alice["player_id"], currency="EUR").balance_available

    # given alice signed in on the player page, who opens the sandbox slot with its Play button
    sign_in(page, live_server.url, "aurora-alice")
    launched = open_game(page, game_origin)
    assert launched.startswith(f"{game_origin}/play/{aurora['game_provider']['slug']}/slot?session=gs_")
    # the game shows the casino's balance, read through the signed balance call
    assert to_minor(page.inner_text("[data-testid=balance]"), "EUR") == before

    # when she spins three times at 1.00 EUR
    page.get_by_label("Bet (EUR)").select_option("1.00")
    for played in (1, 2, 3):
        page.get_by_role("button", name="Spin").click()
        expect(page.locator("#history tr")).to_have_count(played)
        expect(page.get_by_role("button", name="Spin")).to_be_enabled()

    # then each round is the seeded outcome, and the casino's wallet moved by bets and wins exactly
    round_ids = page.eval_on_selector_all("#history tr", "rows => rows.map(r => r.dataset.round)")
    wins = sum(rng.outcome(SEED, round_id).win(1_00) for round_id in round_ids)
    after = before - 3 * 1_00 + wins
    assert Wallet.objects.get(player_id=alice["player_id"], currency="EUR").balance_available == after
    assert page.inner_text("[data-testid=balance]") == to_text(after, "EUR")
    assert JournalEntry.objects.filter(event_type="bet_placed").count() == 3
    # and every round closed at the casino with its win (zero for a loss)
    assert {r["state"] for r in map(game.store.round, round_ids)} <= {"won", "lost"}

    # and back on the player page, the balance is the one the game showed
    page.goto(f"{live_server.url}/play/")
    expect(page.locator("#balance-rows tr[data-currency=EUR] td.available")).to_have_text(to_text(after, "EUR"))

    # and the provider's daily report has the three bets and three wins the casino accepted
    today = datetime.now(tz=UTC).date().isoformat()
    url = f"{game_origin}/reports/daily.csv?date={today}&provider={aurora['game_provider']['slug']}"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the game on 127.0.0.1
        report = list(csv.DictReader(io.StringIO(response.read().decode())))
    assert sorted(row["kind"] for row in report) == ["bet"] * 3 + ["win"] * 3
    assert {row["round_id"] for row in report} == set(round_ids)


def test_a_session_of_another_casino_is_refused_by_the_game_wallet(page, live_server, game_server, demo):
    # given a session of an Aurora player, launched under Borealis' provider account
    aurora, borealis = demo["aurora"], demo["borealis"]
    sign_in(page, live_server.url, "aurora-alice")
    launched = open_game(page, game_server[1])
    wrong = launched.replace(f"/play/{aurora['game_provider']['slug']}/", f"/play/{borealis['game_provider']['slug']}/")
    # when the game asks Borealis' wallet for the balance, then the casino refuses and the page says so
    page.goto(wrong)
    expect(page.locator("[data-testid=session-refused]")).to_be_visible()
    assert not JournalEntry.objects.filter(event_type="bet_placed").exists()
