"""The sandbox game's HTTP face (WSGI, standard library only).

    GET  /play/<provider>/<game>?session=<token>     the launch page (balance, bet, Spin, history)
    POST /play/<provider>/<game>/spin                a spin: JSON {"session", "amount", "currency"}
                                                     -> JSON; or a plain form post -> 303 to the page
    GET  /play/<provider>/<game>/state?session=...   balance and history as JSON
    GET  /rounds/<round_id>                          a round, its seed and its calls (to replay it)
    GET  /reports/daily.csv?date=YYYY-MM-DD[&provider=<slug>]   the provider's daily report
    GET  /health

The casino formats the launch URL `http://<game host>/play/<provider>/<game>?session={session_token}`.
The page is server-rendered; a small script (static/slot.js) makes Spin update it in place.
"""

import json
import re
from datetime import date
from html import escape
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from . import money, report, rng
from .client import WalletRefused, WalletUnreachable
from .play import Game, SpinResult, UnknownProvider

GAMES = {"slot": "Sandbox slot"}
STATIC = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
SECURITY_HEADERS = [
    ("Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),  # the launch URL carries the session token
    ("Cache-Control", "no-store"),
]
MAX_BODY = 16 * 1024
PLAY = re.compile(r"^/play/(?P<provider>[a-z0-9][a-z0-9_-]{0,63})/(?P<game>[a-z0-9-]{1,32})(?P<rest>/spin|/state)?/?$")
TOKEN = re.compile(r"^[A-Za-z0-9._~-]{8,200}$")
SYMBOL_TEXT = {"cherry": "Cherry", "lemon": "Lemon", "bell": "Bell", "bar": "BAR", "seven": "7"}
STATE_TEXT = {
    "won": "won",
    "lost": "lost",
    "open": "lost (round left open)",
    "win_pending": "win on its way",
    "refused": "refused",
    "rolled_back": "bet returned",
    "rollback_pending": "bet being returned",
    "betting": "in play",
}


def bet_choices(currency: str) -> list[int]:
    places = money.exponent(currency)
    if places == 0:
        return [1, 5, 10, 20, 50, 100]
    return [value * 10 ** (places - 2) for value in (10, 50, 100, 200, 500, 1000)]


class Response:
    def __init__(self, status: str, body: str | bytes = b"", content_type="text/html; charset=utf-8", headers=()):
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.headers = [("Content-Type", content_type), *headers, *SECURITY_HEADERS]


def json_response(data, status="200 OK") -> Response:
    return Response(status, json.dumps(data), "application/json")


class SandboxGameApp:
    """The WSGI application; `game` holds the providers, the store and the seed."""

    def __init__(self, game: Game):
        self.game = game

    def __call__(self, environ, start_response):
        try:
            response = self.route(environ)
        except UnknownProvider:
            response = self.page("404 Not Found", "Unknown casino", "<p>This game is not set up for that casino.</p>")
        start_response(response.status, [*response.headers, ("Content-Length", str(len(response.body)))])
        return [response.body]

    def route(self, environ) -> Response:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
        query = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if path == "/health":
            return Response("200 OK", "ok", "text/plain; charset=utf-8")
        if path.startswith("/static/") and method == "GET":
            return self.static(path.removeprefix("/static/"))
        if path == "/reports/daily.csv" and method == "GET":
            return self.daily_report(query)
        if path.startswith("/rounds/") and method == "GET":
            return self.round(path.removeprefix("/rounds/").strip("/"))
        match = PLAY.match(path)
        if match and match["game"] in GAMES:
            slug, game = match["provider"], match["game"]
            if match["rest"] == "/spin" and method == "POST":
                return self.spin(environ, slug, game)
            if match["rest"] == "/state" and method == "GET":
                return self.state(slug, query.get("session", ""))
            if not match["rest"] and method == "GET":
                return self.launch(slug, game, query)
            return Response("405 Method Not Allowed", "method not allowed", "text/plain; charset=utf-8")
        if path == "/" and method == "GET":
            return self.index()
        return Response("404 Not Found", "not found", "text/plain; charset=utf-8")

    # -- pages ------------------------------------------------------------------------

    def launch(self, slug: str, game: str, query: dict) -> Response:
        self.game.provider(slug)  # an unknown casino is a 404 before anything is called
        session = query.get("session", "")
        if not TOKEN.match(session):
            return self.page("400 Bad Request", GAMES[game], "<p>The link has no valid game session.</p>")
        try:
            answer = self.game.balance(slug, session)
        except WalletRefused as refusal:
            return self.page(
                "403 Forbidden",
                GAMES[game],
                f'<p role="alert" data-testid="session-refused">The casino refused this game session '
                f"({escape(refusal.error_code)}). Please start the game again from the casino.</p>",
            )
        except WalletUnreachable:
            return self.page(
                "502 Bad Gateway", GAMES[game], '<p role="alert">The casino is not reachable. Please try again.</p>'
            )
        currency, balance = str(answer.get("currency", "")), str(answer["balance"])
        last = self.game.store.round(query["round"]) if query.get("round") else None
        message = self._message_for_round(last) if last and last["session_token"] == session else ""
        history = self.game.store.recent_rounds(session)
        choices = bet_choices(currency)
        default = choices[2]
        options = "".join(
            f'<option value="{escape(money.to_text(v, currency))}"{" selected" if v == default else ""}>'
            f"{escape(money.to_text(v, currency))}</option>"
            for v in choices
        )
        reels = last["reels"].split(",") if last and last.get("reels") else ["seven", "seven", "seven"]
        action = f"/play/{slug}/{game}/spin"
        body = f"""
<p class="muted">A demo slot machine. Bets and wins are real calls to the casino's game wallet.</p>
<section aria-labelledby="balance-label" class="balance">
  <span id="balance-label">Balance</span>
  <output id="balance" data-testid="balance" aria-live="polite">{escape(balance)}</output>
  <span id="currency" data-testid="currency">{escape(currency)}</span>
</section>
{_reels_html(reels)}
<form id="spin-form" method="post" action="{escape(action)}" data-testid="spin-form">
  <input type="hidden" name="session" value="{escape(session)}">
  <input type="hidden" name="currency" value="{escape(currency)}">
  <label for="bet">Bet ({escape(currency)})</label>
  <select id="bet" name="amount" data-testid="bet">{options}</select>
  <button type="submit" id="spin" data-testid="spin">Spin</button>
</form>
<p id="message" role="status" aria-live="polite" data-testid="message">{escape(message)}</p>
<h2>Your last rounds</h2>
<table data-testid="history">
  <thead><tr><th scope="col">Round</th><th scope="col">Bet</th><th scope="col">Reels</th>
  <th scope="col">Win</th><th scope="col">Result</th></tr></thead>
  <tbody id="history">{"".join(_history_row(r) for r in history)}</tbody>
</table>
<p class="muted small">Pays: three of a kind 4x (Cherry) to 100x (7); two cherries 2x.</p>"""
        return self.page("200 OK", GAMES[game], body, scripts=True)

    def index(self) -> Response:
        slugs = sorted(self.game.providers.all())
        items = "".join(f"<li><code>{escape(s)}</code></li>" for s in slugs) or "<li>none configured</li>"
        return self.page(
            "200 OK",
            "Sandbox game",
            "<p>A demo game provider. Open a game from the casino's player page; the casino sends you to "
            "<code>/play/&lt;provider&gt;/slot?session=&lt;token&gt;</code>.</p>"
            f"<h2>Casinos (provider accounts)</h2><ul>{items}</ul>"
            "<p>Daily report: <code>/reports/daily.csv?date=YYYY-MM-DD</code></p>",
        )

    def page(self, status: str, title: str, body: str, *, scripts: bool = False) -> Response:
        script = '<script src="/static/slot.js" defer></script>' if scripts else ""
        html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><link rel="stylesheet" href="/static/slot.css">{script}</head>
<body><main><h1>{escape(title)}</h1>{body}</main></body></html>"""
        return Response(status, html)

    # -- actions and reads --------------------------------------------------------------

    def spin(self, environ, slug: str, game: str) -> Response:
        wants_json = "application/json" in environ.get("CONTENT_TYPE", "")
        fields = _read_fields(environ, as_json=wants_json)
        session, currency = str(fields.get("session", "")), str(fields.get("currency", ""))
        if not TOKEN.match(session) or not re.fullmatch(r"[A-Z]{3}", currency):
            return json_response({"error": "session and currency are required"}, "400 Bad Request")
        try:
            bet = money.to_minor(str(fields.get("amount", "")), currency)
        except ValueError:
            bet = 0
        if bet not in bet_choices(currency):
            return json_response({"error": "choose one of the offered bets"}, "400 Bad Request")
        result = self.game.spin(slug, session, bet=bet, currency=currency)
        if not wants_json:  # the page without its script: back to it, showing this round
            location = f"/play/{slug}/{game}?" + urlencode({"session": session, "round": result.round_id})
            return Response("303 See Other", "", headers=[("Location", location)])
        history = self.game.store.recent_rounds(session)
        return json_response(
            {
                **_result_json(result),
                "message": self._message_for_round(self.game.store.round(result.round_id)),
                "history_html": "".join(_history_row(r) for r in history),
                "reels_text": [SYMBOL_TEXT[s] for s in result.reels],
            }
        )

    def state(self, slug: str, session: str) -> Response:
        if not TOKEN.match(session):
            return json_response({"error": "session is required"}, "400 Bad Request")
        try:
            answer = self.game.balance(slug, session)
        except WalletRefused as refusal:
            return json_response({"error_code": refusal.error_code}, "403 Forbidden")
        except WalletUnreachable:
            return json_response({"error_code": "CASINO_UNREACHABLE"}, "502 Bad Gateway")
        rounds = self.game.store.recent_rounds(session)
        return json_response({"balance": answer["balance"], "currency": answer.get("currency"), "rounds": rounds})

    def round(self, round_id: str) -> Response:
        found = self.game.store.round(round_id)
        if found is None:
            return json_response({"error": "no such round"}, "404 Not Found")
        replay = rng.outcome(found["seed"], round_id)
        calls = [
            {k: getattr(c, k) for k in ("transaction_id", "kind", "amount", "status", "attempts", "error_code")}
            for c in self.game.store.calls_of_round(round_id)
        ]
        found.pop("session_token")
        return json_response({**found, "replayed_reels": list(replay.reels), "calls": calls})

    def daily_report(self, query: dict) -> Response:
        try:
            day = date.fromisoformat(query.get("date", ""))
        except ValueError:
            return Response("400 Bad Request", "date=YYYY-MM-DD is required", "text/plain; charset=utf-8")
        csv_text = report.daily_csv(self.game.store, day, query.get("provider") or None)
        filename = f"sandbox-game-{day.isoformat()}.csv"
        return Response(
            "200 OK",
            csv_text,
            "text/csv; charset=utf-8",
            headers=[("Content-Disposition", f'attachment; filename="{filename}"')],
        )

    def static(self, name: str) -> Response:
        file = STATIC / name
        if "/" in name or file.suffix not in STATIC_TYPES or not file.is_file():
            return Response("404 Not Found", "not found", "text/plain; charset=utf-8")
        return Response("200 OK", file.read_bytes(), STATIC_TYPES[file.suffix])

    def _message_for_round(self, found: dict | None) -> str:
        if not found:
            return ""
        currency = found["currency"]
        bet, win = money.to_text(found["bet"], currency), money.to_text(found["win"] or 0, currency)
        reels = " | ".join(SYMBOL_TEXT[s] for s in (found["reels"] or "").split(",") if s)
        return {
            "won": f"{reels}: you won {win} {currency}.",
            "lost": f"{reels}: no win this time.",
            "open": f"{reels}: no win this time.",
            "win_pending": f"{reels}: you won {win} {currency}; the casino has not confirmed it yet.",
            "rolled_back": f"The casino did not answer; your bet of {bet} {currency} was returned.",
            "rollback_pending": f"The casino did not answer; your bet of {bet} {currency} is being returned.",
            "win_refused": f"{reels}: the casino refused the win ({found.get('error_code')}).",
        }.get(found["state"], _refusal_text(found.get("error_code")))


def _refusal_text(code: str | None) -> str:
    return {
        "INSUFFICIENT_FUNDS": "Not enough money for this bet.",
        "PLAYER_LIMIT_EXCEEDED": "This bet would go over your loss limit.",
        "PLAYER_EXCLUDED": "Play is paused on your account.",
        "GAME_SESSION_EXPIRED": "Your game session has expired. Please start the game again from the casino.",
        "SIGNATURE_INVALID": "The casino did not accept the game's signature.",
    }.get(code or "", f"The casino refused the bet ({code}).")


def _read_fields(environ, *, as_json: bool) -> dict:
    try:
        length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length else b""
    if as_json:
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return {key: values[0] for key, values in parse_qs(raw.decode("utf-8", "replace")).items()}


def _result_json(result: SpinResult) -> dict:
    return {
        "round_id": result.round_id,
        "state": result.state,
        "currency": result.currency,
        "bet": money.to_text(result.bet, result.currency),
        "win": money.to_text(result.win, result.currency),
        "reels": list(result.reels),
        "multiplier": result.multiplier,
        "balance": result.balance,
        "error_code": result.error_code,
    }


def _reels_html(reels: list[str]) -> str:
    label = "Reels: " + ", ".join(SYMBOL_TEXT[s] for s in reels)
    cells = "".join(f'<span class="reel" data-symbol="{escape(s)}">{escape(SYMBOL_TEXT[s])}</span>' for s in reels)
    return f'<div id="reels" class="reels" role="img" aria-label="{escape(label)}" data-testid="reels">{cells}</div>'


def _history_row(found: dict) -> str:
    currency = found["currency"]
    reels = " | ".join(SYMBOL_TEXT[s] for s in (found["reels"] or "").split(",") if s) or "–"
    win = money.to_text(found["win"], currency) if found["win"] is not None else "–"
    state = STATE_TEXT.get(found["state"], found["state"].replace("_", " "))
    return (
        f'<tr data-round="{escape(found["round_id"])}" data-state="{escape(found["state"])}">'
        f"<td><code>{escape(found['round_id'][-8:])}</code></td>"
        f"<td>{escape(money.to_text(found['bet'], currency))} {escape(currency)}</td>"
        f"<td>{escape(reels)}</td><td>{escape(win)}</td><td>{escape(state)}</td></tr>"
    )
