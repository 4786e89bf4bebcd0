"""The demo casinos' sandbox game: what seed_demo tells the game, and what it prints about it.

The game wallet's models (provider accounts, games) belong to `games/`; this module takes
plain values from them so that seed_demo can call it per tenant once they exist:

    secret = <the provider account's active whsec_ secret>           # kept across runs, like the PSP's
    game_url = sandbox_game_url(options_game_url)                    # --game-url / SANDBOX_GAME_URL
    <the Game row's launch URL> = launch_url_template(game_url, provider_slug(tenant.slug))
    <the account's report_url> = report_url_template(game_url, provider_slug(tenant.slug))
    entry = demo_sandbox_game(provider_slug=..., signing_secret=secret, game_id=<the Game's id>,
                              base_url=base_url, game_url=game_url)
    summary_tenant.update(entry)     # "game_provider" and "sandbox_game" in seed_demo --json

`register_sandbox_game` writes the provider account's slug, secret and API URL into the
sandbox game's `providers.json` (its own configuration, `SANDBOX_GAME_DIR`), the way
seed_demo registers each casino at the sandbox PSP; the running game re-reads the file, so
a re-seed or a rotated secret applies without restarting it (docs/sandbox-game.md).
"""

import os
from pathlib import Path

from games.sandbox.providers import api_url_for, game_dir, read_file, save_provider

DEFAULT_GAME_URL = "http://127.0.0.1:8002"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
GAME_CODE = "slot"  # the sandbox game's one game; the path segment after the provider in its launch URL
GAME_NAME = "Sandbox slot"


def provider_slug(tenant_slug: str) -> str:
    """The demo casino's game provider account (it names the endpoints /api/v1/games/<slug>/)."""
    return f"sandbox-{tenant_slug}"


def sandbox_game_url(given: str | None = None) -> str:
    return (given or os.environ.get("SANDBOX_GAME_URL") or DEFAULT_GAME_URL).rstrip("/")


def launch_url_template(game_url: str, provider: str, game_code: str = GAME_CODE) -> str:
    """The game's launch URL with the one placeholder the casino fills: `{session_token}`."""
    return f"{game_url.rstrip('/')}/play/{provider}/{game_code}?session={{session_token}}"


def report_url_template(game_url: str, provider: str) -> str:
    """The provider account's daily report at the sandbox game; reconciliation fills `{date}`."""
    return f"{game_url.rstrip('/')}/reports/daily.csv?date={{date}}&provider={provider}"


def register_sandbox_game(
    *, provider_slug: str, signing_secret: str, base_url: str | None, directory: Path | None = None
) -> str:
    """Tell the sandbox game the casino's account; returns the API URL it will call.

    Without `base_url` the URL the game already has for this account is kept (like the PSP's
    webhook URL in seed_demo), or the default for a new one.
    """
    directory = directory or game_dir()
    if base_url:
        api_url = api_url_for(provider_slug, base_url)
    else:
        file = directory / "providers.json"
        known = read_file(file).get(provider_slug) if file.exists() else None
        api_url = known.api_url if known else api_url_for(provider_slug, DEFAULT_BASE_URL)
    save_provider(provider_slug, secret=signing_secret, api_url=api_url, directory=directory)
    return api_url


def sandbox_game_summary(*, provider_slug: str, signing_secret: str, game_id, api_url: str, game_url: str) -> dict:
    """The tenant's part of `seed_demo --json`, for scripts that play the provider's part themselves."""
    return {
        "game_provider": {"slug": provider_slug, "signing_secret": signing_secret, "api_url": api_url},
        "sandbox_game": {
            "game": game_id,  # the `game` value for POST /api/v1/games/sessions/
            "name": GAME_NAME,
            "url": game_url,
            "launch_url": launch_url_template(game_url, provider_slug),
            "report_url": f"{game_url}/reports/daily.csv?provider={provider_slug}&date=YYYY-MM-DD",
        },
    }


def demo_sandbox_game(
    *,
    provider_slug: str,
    signing_secret: str,
    game_id,
    base_url: str | None,
    game_url: str | None = None,
    directory: Path | None = None,
) -> dict:
    """Register the casino at the sandbox game and describe it for seed_demo's output."""
    api_url = register_sandbox_game(
        provider_slug=provider_slug, signing_secret=signing_secret, base_url=base_url, directory=directory
    )
    return sandbox_game_summary(
        provider_slug=provider_slug,
        signing_secret=signing_secret,
        game_id=game_id,
        api_url=api_url,
        game_url=sandbox_game_url(game_url),
    )


def describe(entry: dict) -> list[str]:
    """seed_demo's plain-text lines for one casino."""
    provider, game = entry["game_provider"], entry["sandbox_game"]
    return [
        f"    game provider {provider['slug']}  {provider['api_url']}  secret {provider['signing_secret']}",
        f"    sandbox game  {game['name']} (game {game['game']})  {game['url']}",
    ]
