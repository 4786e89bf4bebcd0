"""The launch page, the spin endpoint and the round read-out, called in-process (WSGI)."""

import io
import json
from urllib.parse import urlencode, urlsplit
from wsgiref.util import setup_testing_defaults

from games.sandbox import rng
from games.sandbox.money import to_text
from games.sandbox.web import SandboxGameApp

from .conftest import SLUG


def call_app(app, method: str, target: str, *, body: bytes = b"", content_type: str = ""):
    path, _, query = target.partition("?")
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query}
    setup_testing_defaults(environ)
    environ.update({"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": content_type})
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    out = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], out


def spin_json(app, session, amount="1.00", currency="EUR"):
    body = json.dumps({"session": session, "amount": amount, "currency": currency}).encode()
    status, _, out = call_app(app, "POST", f"/play/{SLUG}/slot/spin", body=body, content_type="application/json")
    return status, json.loads(out)


def test_the_launch_page_shows_the_casinos_balance_a_bet_selector_and_spin(game, session):
    status, headers, out = call_app(SandboxGameApp(game), "GET", f"/play/{SLUG}/slot?session={session}")
    page = out.decode()
    assert status == "200 OK"
    assert 'data-testid="balance" aria-live="polite">100.00</output>' in page
    assert '<label for="bet">Bet (EUR)</label>' in page and '<option value="1.00" selected>' in page
    assert '<button type="submit" id="spin" data-testid="spin">Spin</button>' in page
    assert '<script src="/static/slot.js" defer></script>' in page
    # no inline script, and the session token does not leak to other sites through the referrer
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"


def test_a_spin_bets_then_pays_and_the_page_answers_with_the_new_balance_and_history(game, wallet, session):
    app = SandboxGameApp(game)
    status, result = spin_json(app, session, "2.00")
    assert status == "200 OK"
    replay = rng.outcome("test-seed", result["round_id"])
    win = 2_00 * replay.multiplier
    assert (result["reels"], result["bet"], result["win"]) == (list(replay.reels), "2.00", to_text(win, "EUR"))
    assert result["balance"] == to_text(100_00 - 2_00 + win, "EUR")
    assert wallet.balance_of(session) == 100_00 - 2_00 + win
    assert f'data-round="{result["round_id"]}" data-state="{result["state"]}"' in result["history_html"]
    # and the round can be read back with its seed, and replayed
    status, _, out = call_app(app, "GET", f"/rounds/{result['round_id']}")
    found = json.loads(out)
    assert found["seed"] == "test-seed" and found["replayed_reels"] == result["reels"]
    assert [c["kind"] for c in found["calls"]] == ["bet", "win"] and "session_token" not in found


def test_without_script_the_form_posts_and_comes_back_to_the_page_showing_the_round(game, session):
    app = SandboxGameApp(game)
    form = urlencode({"session": session, "amount": "1.00", "currency": "EUR"}).encode()
    status, headers, _ = call_app(
        app, "POST", f"/play/{SLUG}/slot/spin", body=form, content_type="application/x-www-form-urlencoded"
    )
    assert status == "303 See Other"
    location = urlsplit(headers["Location"])
    assert location.path == f"/play/{SLUG}/slot" and f"session={session}" in location.query
    page = call_app(app, "GET", f"{location.path}?{location.query}")[2].decode()
    assert 'data-testid="message">' in page and ("you won" in page or "no win this time" in page)
    assert page.count("<tr data-round=") == 1


def test_only_the_offered_bets_are_taken(game, wallet, session):
    app = SandboxGameApp(game)
    for amount in ("0.00", "-1.00", "1.005", "3.00", "lots"):
        status, _ = spin_json(app, session, amount)
        assert status == "400 Bad Request", amount
    assert wallet.calls("bet") == []


def test_a_refused_bet_is_explained_and_nothing_else_is_sent(game, wallet, session):
    wallet.balances[session][0] = 50  # 0.50 EUR
    status, result = spin_json(SandboxGameApp(game), session, "1.00")
    assert status == "200 OK"
    assert (result["state"], result["error_code"], result["balance"]) == ("refused", "INSUFFICIENT_FUNDS", None)
    assert result["message"] == "Not enough money for this bet."
    assert [s.call for s in wallet.seen] == ["bet"]


def test_unknown_casinos_sessions_and_paths(game, wallet, session):
    app = SandboxGameApp(game)
    assert call_app(app, "GET", f"/play/no-such-casino/slot?session={session}")[0] == "404 Not Found"
    assert call_app(app, "GET", f"/play/{SLUG}/poker?session={session}")[0] == "404 Not Found"
    assert call_app(app, "GET", f"/play/{SLUG}/slot?session=<script>")[0] == "400 Bad Request"
    status, _, out = call_app(app, "GET", f"/play/{SLUG}/slot?session=gs_expired_session")
    assert status == "403 Forbidden" and "GAME_SESSION_EXPIRED" in out.decode()
    assert call_app(app, "GET", "/rounds/rnd_nope")[0] == "404 Not Found"
    assert call_app(app, "GET", "/static/../web.py")[0] == "404 Not Found"
    assert call_app(app, "GET", "/static/slot.js")[1]["Content-Type"].startswith("text/javascript")
    assert call_app(app, "GET", f"/play/{SLUG}/slot/spin")[0] == "405 Method Not Allowed"
    assert call_app(app, "GET", "/health")[2] == b"ok"
