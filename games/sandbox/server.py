"""The sandbox game's process: a threaded WSGI server and the resender of owed calls.

    python -m games.sandbox --port 8002          (the Procfile's `game:` line; --help lists options)

Every option has an environment variable, so `make run` and tests configure it alike
(docs/sandbox-game.md). The process is stdlib plus `standardwebhooks`; it imports no
product module and never opens the casino's database.
"""

import argparse
import logging
import os
import socketserver
import threading
import time
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .play import LOSING_ROUNDS, Game
from .providers import DEFAULT_API_URL, Providers, game_dir, parse_pairs
from .store import Store
from .web import SandboxGameApp

log = logging.getLogger("sandbox_game")


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        # Never the query string: a launch URL carries the player's game session.
        log.info("%s %s", self.command, self.path.split("?")[0])


def build_game(
    *,
    directory: Path,
    seed: str | None = None,
    providers: dict | None = None,
    losing_rounds: str = "zero-win",
    timeout: float = 5.0,
    attempts: int = 3,
    **options,
) -> Game:
    return Game(
        Providers(directory / "providers.json", providers),
        Store(directory / "game.sqlite3"),
        seed=seed,
        losing_rounds=losing_rounds,
        timeout=timeout,
        attempts=attempts,
        **options,
    )


def resend_forever(game: Game, stop: threading.Event, every: float = 1.0) -> None:
    while not stop.is_set():
        try:
            game.resend_due()
        except Exception:  # noqa: BLE001 - the resender must outlive a bad moment
            log.exception("resender")
        stop.wait(every)


def start(game: Game, host: str, port: int) -> tuple[ThreadingWSGIServer, threading.Event]:
    """Serve in background threads (tests, and `main`); returns the server and the resender's stop."""
    server = make_server(host, port, SandboxGameApp(game), ThreadingWSGIServer, QuietHandler)
    stop = threading.Event()
    threading.Thread(target=server.serve_forever, name="sandbox-game-http", daemon=True).start()
    threading.Thread(target=resend_forever, args=(game, stop), name="sandbox-game-resender", daemon=True).start()
    return server, stop


def parse_args(argv=None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m games.sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=env("SANDBOX_GAME_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("SANDBOX_GAME_PORT", "8002")))
    parser.add_argument("--dir", type=Path, default=game_dir(), help="providers.json and game.sqlite3 live here")
    parser.add_argument("--seed", default=env("SANDBOX_GAME_SEED") or None, help="RNG seed (default: random)")
    parser.add_argument(
        "--provider",
        action="append",
        default=[],
        metavar="SLUG=whsec_...",
        help="a casino's provider account and its signing secret (repeatable; beside providers.json)",
    )
    parser.add_argument("--api-url", default=env("SANDBOX_GAME_API_URL", DEFAULT_API_URL), help="the casino's origin")
    parser.add_argument("--losing-rounds", choices=LOSING_ROUNDS, default=env("SANDBOX_GAME_LOSING_ROUNDS", "zero-win"))
    parser.add_argument("--timeout", type=float, default=float(env("SANDBOX_GAME_TIMEOUT_SECONDS", "5")))
    parser.add_argument("--attempts", type=int, default=int(env("SANDBOX_GAME_ATTEMPTS", "3")))
    return parser.parse_args(argv)


def main(argv=None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse_args(argv)
    try:
        fixed = parse_pairs(",".join([os.environ.get("SANDBOX_GAME_PROVIDERS", ""), *args.provider]), args.api_url)
    except ValueError as error:
        raise SystemExit(f"--provider / SANDBOX_GAME_PROVIDERS: {error}") from None
    game = build_game(
        directory=args.dir,
        seed=args.seed,
        providers=fixed,
        losing_rounds=args.losing_rounds,
        timeout=args.timeout,
        attempts=args.attempts,
    )
    server, stop = start(game, args.host, args.port)
    known = ", ".join(sorted(game.providers.all())) or f"none yet (waiting for {args.dir / 'providers.json'})"
    log.info("Sandbox game on http://%s:%s/ (seed %s); casinos: %s", args.host, args.port, game.seed, known)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.shutdown()
