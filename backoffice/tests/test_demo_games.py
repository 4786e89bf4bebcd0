"""seed_demo's part for the sandbox game: the game learns each casino's account, scripts get the rest."""

import base64
import secrets

from backoffice.management import demo_games
from games.sandbox.providers import Providers
from games.sandbox.web import PLAY


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def test_the_casino_is_registered_at_the_game_and_described_for_scripts(tmp_path):
    secret = new_secret()
    # when seed_demo registers Aurora's provider account
    entry = demo_games.demo_sandbox_game(
        provider_slug="sandbox-aurora",
        signing_secret=secret,
        game_id="7",
        base_url="http://127.0.0.1:9000",
        game_url="http://127.0.0.1:9002/",
        directory=tmp_path,
    )
    # then the running game signs Aurora's calls with that secret, to that casino
    known = Providers(tmp_path / "providers.json").get("sandbox-aurora")
    assert (known.secret, known.api_url) == (secret, "http://127.0.0.1:9000/api/v1/games/sandbox-aurora/")
    # and the JSON names the provider, its secret, the game to start and where it lives
    assert entry == {
        "game_provider": {
            "slug": "sandbox-aurora",
            "signing_secret": secret,
            "api_url": "http://127.0.0.1:9000/api/v1/games/sandbox-aurora/",
        },
        "sandbox_game": {
            "game": "7",
            "name": "Sandbox slot",
            "url": "http://127.0.0.1:9002",
            "launch_url": "http://127.0.0.1:9002/play/sandbox-aurora/slot?session={session_token}",
            "report_url": "http://127.0.0.1:9002/reports/daily.csv?provider=sandbox-aurora&date=YYYY-MM-DD",
        },
    }
    assert "whsec_" in demo_games.describe(entry)[0]


def test_the_launch_url_template_is_one_the_game_answers(tmp_path):
    url = demo_games.launch_url_template("http://127.0.0.1:8002", "sandbox-borealis").format(session_token="gs_abc123")
    path, _, query = url.removeprefix("http://127.0.0.1:8002").partition("?")
    match = PLAY.match(path)
    assert (match["provider"], match["game"], query) == ("sandbox-borealis", "slot", "session=gs_abc123")


def test_without_a_base_url_the_games_api_url_is_kept(tmp_path, monkeypatch):
    demo_games.register_sandbox_game(
        provider_slug="sandbox-aurora",
        signing_secret=new_secret(),
        base_url="http://elsewhere:9000",
        directory=tmp_path,
    )
    rotated = new_secret()
    api_url = demo_games.register_sandbox_game(
        provider_slug="sandbox-aurora", signing_secret=rotated, base_url=None, directory=tmp_path
    )
    assert api_url == "http://elsewhere:9000/api/v1/games/sandbox-aurora/"
    assert Providers(tmp_path / "providers.json").get("sandbox-aurora").secret == rotated
    # a new account without one gets the default, and the game URL comes from SANDBOX_GAME_URL
    monkeypatch.setenv("SANDBOX_GAME_URL", "http://games.example:8102")
    entry = demo_games.demo_sandbox_game(
        provider_slug="sandbox-new", signing_secret=rotated, game_id=1, base_url=None, directory=tmp_path
    )
    assert entry["game_provider"]["api_url"] == "http://127.0.0.1:8000/api/v1/games/sandbox-new/"
    assert entry["sandbox_game"]["url"] == "http://games.example:8102"
