"""The game's client logic against a fake game wallet over real HTTP: what is sent, what is
retried (the same transaction, the same body) and what is final.

The fake (fake_wallet.py) verifies every signature, so every call counted here was signed
with the provider account's secret.
"""

import json

import pytest

from games.sandbox import rng
from games.sandbox.money import to_text

from .conftest import SLUG, make_game, new_secret


def bodies(wallet, call):
    return [json.loads(s.body) for s in wallet.calls(call)]


def test_a_winning_or_losing_spin_is_a_bet_then_a_win_that_closes_the_round(game, wallet, session):
    # when the player spins 1.00 EUR
    result = game.spin(SLUG, session, bet=1_00, currency="EUR")
    # then the casino got a bet and a win of the seeded outcome (0.00 for a loss), closing the round
    spun = rng.outcome("test-seed", result.round_id)
    (bet,), (win,) = bodies(wallet, "bet"), bodies(wallet, "win")
    assert bet == {
        "session_token": session,
        "transaction_id": bet["transaction_id"],
        "round_id": result.round_id,
        "amount": "1.00",
        "currency": "EUR",
    }
    assert win["round_id"] == result.round_id and win["round_closed"] is True
    assert win["amount"] == to_text(spun.win(1_00), "EUR")
    assert wallet.balance_of(session) == 100_00 - 1_00 + spun.win(1_00)
    assert result.state == ("won" if spun.multiplier else "lost")
    assert result.balance == to_text(wallet.balance_of(session), "EUR")
    # every call was signed and accepted, each under its own message id = transaction id
    assert all(s.status == 200 and s.headers["webhook-id"] == json.loads(s.body)["transaction_id"] for s in wallet.seen)


def test_many_spins_move_the_balance_by_bets_and_wins(game, wallet, session):
    results = [game.spin(SLUG, session, bet=50, currency="EUR") for _ in range(30)]
    expected = 100_00 - sum(r.bet for r in results) + sum(r.win for r in results)
    assert wallet.balance_of(session) == expected
    assert results[-1].balance == to_text(expected, "EUR")
    assert len({r.round_id for r in results}) == 30
    assert any(r.win for r in results) and any(not r.win for r in results)


def test_a_bet_whose_answer_is_lost_is_sent_again_the_same_and_debited_once(game, wallet, session):
    # given a casino that performs the first bet but answers after the game's timeout
    wallet.stall["bet"] = 1
    # when the player spins
    result = game.spin(SLUG, session, bet=5_00, currency="EUR")
    # then the game sent the same bet again, byte for byte, and the casino replayed its first answer
    first, again = wallet.calls("bet")
    assert first.body == again.body and first.headers["webhook-id"] == again.headers["webhook-id"]
    assert game.store.call(json.loads(first.body)["transaction_id"]).attempts == 2
    # and the stake left the balance once
    assert wallet.balance_of(session) == 100_00 - 5_00 + result.win
    assert result.state in ("won", "lost")


def test_a_5xx_is_retried_and_then_accepted(game, wallet, session):
    wallet.fail["bet"] = [(503, "SERVICE_UNAVAILABLE"), (500, "INTERNAL_ERROR")]
    result = game.spin(SLUG, session, bet=1_00, currency="EUR")
    assert [s.status for s in wallet.calls("bet")] == [503, 500, 200]
    assert len({s.body for s in wallet.calls("bet")}) == 1
    assert result.state in ("won", "lost")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (422, "INSUFFICIENT_FUNDS"),
        (403, "PLAYER_EXCLUDED"),
        (422, "PLAYER_LIMIT_EXCEEDED"),
        (403, "GAME_SESSION_EXPIRED"),
        (409, "GAME_TRANSACTION_CONFLICT"),
    ],
)
def test_a_4xx_is_final_nothing_is_resent_or_rolled_back(game, wallet, session, status, code):
    wallet.fail["bet"] = [(status, code)]
    result = game.spin(SLUG, session, bet=1_00, currency="EUR")
    assert (result.state, result.error_code) == ("refused", code)
    assert [(s.call, s.status) for s in wallet.seen] == [("bet", status)]
    assert wallet.balance_of(session) == 100_00
    # and the resender finds nothing to send
    assert game.resend_due() == 0 and len(wallet.seen) == 1


def test_a_bad_signature_is_final(tmp_path, wallet_server, wallet, session):
    # given a game configured with another provider account's secret
    game = make_game(tmp_path, wallet_server.origin, new_secret())
    result = game.spin(SLUG, session, bet=1_00, currency="EUR")
    assert (result.state, result.error_code) == ("refused", "SIGNATURE_INVALID")
    assert [(s.call, s.status) for s in wallet.seen] == [("bet", 401)]


def test_a_bet_never_answered_is_rolled_back_and_the_stake_returns(game, wallet, session):
    # given a casino that performs the bet but never answers in time (every attempt)
    wallet.stall["bet"] = 3
    result = game.spin(SLUG, session, bet=5_00, currency="EUR")
    # then the game did not play the round: it rolled the bet back, naming the bet's transaction
    assert result.state == "rolled_back" and result.error_code == "CASINO_UNREACHABLE"
    bets, (rollback,) = wallet.calls("bet"), bodies(wallet, "rollback")
    assert len(bets) == 3 and len({s.body for s in bets}) == 1
    bet = json.loads(bets[0].body)
    assert rollback["reference_transaction_id"] == bet["transaction_id"]
    assert (rollback["round_id"], rollback["amount"]) == (bet["round_id"], "5.00")
    assert wallet.calls("win") == []
    assert wallet.balance_of(session) == 100_00
    assert game.store.call(bet["transaction_id"]).status == "unresolved"


def test_a_bet_that_never_arrived_is_rolled_back_so_a_late_copy_is_refused(game, wallet, session):
    wallet.fail["bet"] = [(503, "SERVICE_UNAVAILABLE")] * 3
    result = game.spin(SLUG, session, bet=5_00, currency="EUR")
    assert result.state == "rolled_back"
    (bet_tx,) = {json.loads(s.body)["transaction_id"] for s in wallet.calls("bet")}
    assert bet_tx in wallet.unseen_rollbacks and wallet.balance_of(session) == 100_00


def test_a_win_never_answered_is_resent_later_the_same_and_paid_once(game, wallet, session, monkeypatch):
    # given a casino that stops answering after the bet
    wallet.fail["win"] = [(503, "SERVICE_UNAVAILABLE")] * 3
    result = game.spin(SLUG, session, bet=1_00, currency="EUR")
    assert result.state == "win_pending" and result.error_code == "CASINO_UNREACHABLE"
    (win_tx,) = {json.loads(s.body)["transaction_id"] for s in wallet.calls("win")}
    assert game.store.call(win_tx).status == "pending"
    # when the resender's time comes (and the casino is back)
    monkeypatch.setattr("games.sandbox.store.now", lambda: _later())
    assert game.resend_due() == 1
    # then the same win was sent again and paid once; the round is settled
    assert len({s.body for s in wallet.calls("win")}) == 1 and wallet.calls("win")[-1].status == 200
    assert wallet.balance_of(session) == 100_00 - 1_00 + result.win
    assert game.store.call(win_tx).status == "ok"
    assert game.store.round(result.round_id)["state"] in ("won", "lost")
    assert game.resend_due() == 0


def test_a_bet_left_unanswered_by_a_crash_is_rolled_back_by_the_resender(game, wallet, session, monkeypatch):
    # given a bet recorded and sent, whose spin died before it had an answer
    provider = game.provider(SLUG)
    call = game._new_call(provider, "bet", "rnd_crashed", session, 2_00, "EUR")
    wallet.handle("bet", _signed(provider.secret, call), call.body)
    assert wallet.balance_of(session) == 98_00
    # when the resender finds it after its lease ran out
    monkeypatch.setattr("games.sandbox.store.now", lambda: _later())
    game.resend_due()
    # then it is rolled back, never resent
    assert [s.call for s in wallet.seen] == ["rollback"]
    assert wallet.balance_of(session) == 100_00


def test_losing_rounds_left_to_the_casinos_idle_close(tmp_path, wallet_server, wallet, secret, session):
    game = make_game(tmp_path, wallet_server.origin, secret, losing_rounds="idle")
    results = [game.spin(SLUG, session, bet=10, currency="EUR") for _ in range(20)]
    wins = [r for r in results if r.win]
    assert len(wallet.calls("bet")) == 20 and len(wallet.calls("win")) == len(wins)
    assert {r.state for r in results if not r.win} == {"open"}


def _later():
    from datetime import UTC, datetime, timedelta

    return datetime.now(tz=UTC) + timedelta(hours=1)


def _signed(secret, call):
    from games.sandbox.signing import signed_headers

    return signed_headers(secret, call.message_id, call.body)
