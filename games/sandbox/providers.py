"""Which casino accounts the game plays for: provider slug -> signing secret and API URL.

A casino's game provider account (ARCHITECTURE section 15) has a slug, which names its
endpoints (`/api/v1/games/<slug>/...`), and `whsec_` signing secrets. The game learns them
the way a real studio would be configured, from three places, later ones winning:

1. `providers.json` in the game's directory (`SANDBOX_GAME_DIR`, default `var/sandbox_game/`),
   written by `seed_demo` for the demo casinos; re-read whenever it changes, so a re-seeded
   or rotated secret applies without a restart;
2. the environment: `SANDBOX_GAME_PROVIDERS="slug=whsec_...,other=whsec_..."`;
3. the command line: `--provider slug=whsec_...` (repeatable).

Entries from 2 and 3 call the casino at `SANDBOX_GAME_API_URL` (`--api-url`, default
http://127.0.0.1:8000) + `/api/v1/games/<slug>/`. The API URL is never taken from a launch
URL: a page parameter must not be able to make the game sign calls to another host.
"""

import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "var" / "sandbox_game"
DEFAULT_API_URL = "http://127.0.0.1:8000"
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Provider:
    slug: str
    secret: str
    api_url: str  # where the four calls go: <api_url>balance/, <api_url>bet/, ...

    def endpoint(self, call: str) -> str:
        return f"{self.api_url.rstrip('/')}/{call}/"


def game_dir() -> Path:
    return Path(os.environ.get("SANDBOX_GAME_DIR") or DEFAULT_DIR)


def api_url_for(slug: str, product_url: str) -> str:
    return f"{product_url.rstrip('/')}/api/v1/games/{slug}/"


def parse_pairs(text: str, product_url: str) -> dict[str, Provider]:
    """Providers from "slug=whsec_...,other=whsec_...", each calling the casino at `product_url`."""
    found = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        slug, sep, secret = pair.partition("=")
        slug, secret = slug.strip(), secret.strip()
        if not sep or not SLUG.match(slug) or not secret.startswith("whsec_"):
            raise ValueError(f"expected slug=whsec_..., got {pair.split('=')[0]!r}=...")
        found[slug] = Provider(slug, secret, api_url_for(slug, product_url))
    return found


class Providers:
    """The providers the game knows, the file re-read when its modification time changes."""

    def __init__(self, file: Path, fixed: dict[str, Provider] | None = None):
        self.file = file
        self.fixed = dict(fixed or {})
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._from_file: dict[str, Provider] = {}

    def get(self, slug: str) -> Provider | None:
        return self.all().get(slug)

    def all(self) -> dict[str, Provider]:
        with self._lock:
            self._reload_if_changed()
            return {**self._from_file, **self.fixed}

    def _reload_if_changed(self) -> None:
        try:
            stat = self.file.stat()
        except FileNotFoundError:
            self._stamp, self._from_file = None, {}
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._from_file = read_file(self.file)
            self._stamp = stamp


def read_file(file: Path) -> dict[str, Provider]:
    entries = json.loads(file.read_text(encoding="utf-8")).get("providers", {})
    return {
        slug: Provider(slug, entry["secret"], entry["api_url"])
        for slug, entry in entries.items()
        if SLUG.match(slug) and str(entry.get("secret", "")).startswith("whsec_")
    }


def save_provider(slug: str, *, secret: str, api_url: str, directory: Path | None = None) -> Path:
    """Add or replace one provider in `providers.json` (atomically; readable by its owner only)."""
    if not SLUG.match(slug):
        raise ValueError(f"bad provider slug {slug!r}")
    if not secret.startswith("whsec_"):
        raise ValueError("the signing secret must start with whsec_")
    directory = directory or game_dir()
    directory.mkdir(parents=True, exist_ok=True)
    file = directory / "providers.json"
    data = json.loads(file.read_text(encoding="utf-8")) if file.exists() else {}
    data.setdefault("providers", {})[slug] = {"secret": secret, "api_url": api_url}
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".providers-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2, sort_keys=True)
    os.chmod(temporary, 0o600)
    os.replace(temporary, file)
    return file
