"""Every refusal of section 15: its code and fields, nothing moved, the refused bet kept and audited."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.actors import Actor
from core.models import AuditEvent
from games.models import GameRound, GameSession, GameTransaction, TransactionStatus
from players.exclusions import exclude_self
from players.models import PlayerLimit, RegisterListing
from players.tests.factories import PlayerFactory
from tenants.models import Tenant
from wallet.models import Wallet
from wallet.services import charge_back_deposit, request_withdrawal
from wallet.tests.factories import deposit_with, fund

from .conftest import new_session
from .helpers import assert_problem, books, money_books

pytestmark = pytest.mark.django_db


def expire(session) -> None:
    GameSession.objects.filter(pk=session.session.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def suspend(tenant) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.SUSPENDED)


def take_a_break(player) -> None:
    exclude_self(player, kind="timeout", days=3, actor=Actor.player(player.user))


def assert_refused_bet_kept(tx: str, code: str) -> None:
    stored = GameTransaction.objects.get(transaction_id=tx)
    assert (stored.status, stored.error_code) == (TransactionStatus.REFUSED, code)
    event = AuditEvent.objects.filter(data__transaction_id=tx).get()
    assert event.action in ("game.bet_refused", "limit.refused")
    assert event.data["error_code"] == code


def test_a_bet_after_the_session_expired(provider, session, wallet):
    expire(session)
    before = books(wallet)
    body = assert_problem(provider.bet(session.token, "tx-1"), 403, "GAME_SESSION_EXPIRED")
    assert body["expired_at"]
    after = books(wallet)
    assert (after.available, after.entries, after.postings, after.rounds) == (
        before.available, before.entries, before.postings, before.rounds,
    )  # fmt: skip
    assert after.game_transactions == before.game_transactions + 1
    assert_refused_bet_kept("tx-1", "GAME_SESSION_EXPIRED")


def test_a_bet_while_the_player_takes_a_break(provider, token, wallet, player):
    take_a_break(player)
    before = money_books(wallet)
    body = assert_problem(provider.bet(token, "tx-1"), 403, "PLAYER_EXCLUDED")
    assert body["kind"] == "timeout" and body["ends_at"]
    assert money_books(wallet) == before
    assert_refused_bet_kept("tx-1", "PLAYER_EXCLUDED")


def test_a_bet_of_a_player_on_the_exclusion_register(provider, token, wallet, player):
    RegisterListing.objects.create(key=player.user.username)
    body = assert_problem(provider.bet(token, "tx-1"), 403, "PLAYER_EXCLUDED")
    assert (body["kind"], body["ends_at"]) == ("register", None)


def test_a_bet_at_a_suspended_casino(provider, token, wallet, tenant):
    suspend(tenant)
    before = money_books(wallet)
    assert_problem(provider.bet(token, "tx-1"), 403, "TENANT_SUSPENDED")
    assert money_books(wallet) == before
    assert_refused_bet_kept("tx-1", "TENANT_SUSPENDED")


def test_a_bet_on_a_closed_round(provider, token, wallet):
    provider.bet(token, "tx-1", round_id="r-1")
    provider.win(token, "tx-2", round_id="r-1", amount="0.00", round_closed=True)
    before = money_books(wallet)
    body = assert_problem(provider.bet(token, "tx-3", round_id="r-1"), 409, "GAME_ROUND_CLOSED")
    assert body["round_id"] == "r-1"
    assert money_books(wallet) == before
    assert GameRound.objects.get(round_id="r-1").bet_count == 1
    assert_refused_bet_kept("tx-3", "GAME_ROUND_CLOSED")


def test_a_bet_over_the_available_balance_never_touches_held_money(provider, token, wallet, player):
    from wallet.services import request_withdrawal

    request_withdrawal(player=player, amount=95_00, currency="EUR", actor=Actor.player(player.user))
    before = money_books(wallet)
    body = assert_problem(provider.bet(token, "tx-1", amount="10.00"), 422, "INSUFFICIENT_FUNDS")
    assert body["available"] == "5.00"
    assert money_books(wallet) == before


def test_a_bet_without_a_wallet_in_the_currency(provider, player, game, wallet):
    usd = new_session(player, game, "USD")
    assert_problem(provider.bet(usd.token, "tx-1", currency="USD"), 422, "INSUFFICIENT_FUNDS")


def test_a_win_for_a_round_with_no_bet(provider, token, wallet):
    before = books(wallet)
    body = assert_problem(provider.win(token, "w-1", round_id="nope"), 409, "GAME_ROUND_UNKNOWN")
    assert body["round_id"] == "nope"
    assert books(wallet) == before
    assert AuditEvent.objects.filter(action="game.win_refused").count() == 1


def test_a_win_for_another_players_round_is_unknown_to_this_one(provider, token, wallet, tenant, game):
    other = PlayerFactory(tenant=tenant)
    fund(other, 50_00)
    provider.bet(new_session(other, game).token, "their-bet", round_id="theirs")
    assert_problem(provider.win(token, "w-1", round_id="theirs"), 409, "GAME_ROUND_UNKNOWN")
    # nor may this player bet into it
    assert_problem(provider.bet(token, "b-1", round_id="theirs"), 400, "VALIDATION_ERROR")


def test_a_rollback_of_a_bet_whose_round_paid_a_win(provider, token, wallet):
    provider.bet(token, "tx-1", amount="10.00")
    provider.win(token, "tx-2", amount="3.00")
    before = books(wallet)
    body = assert_problem(provider.rollback(token, "rb-1", "tx-1"), 409, "GAME_ROUND_SETTLED")
    assert (body["round_id"], body["reference_transaction_id"]) == ("r-1", "tx-1")
    assert books(wallet) == before


def test_a_rollback_for_another_amount_than_the_bet(provider, token, wallet):
    provider.bet(token, "tx-1", amount="10.00")
    before = books(wallet)
    body = assert_problem(provider.rollback(token, "rb-1", "tx-1", amount="9.00"), 400, "VALIDATION_ERROR")
    assert "amount" in body["errors"]
    assert books(wallet) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 10.0}, "amount"),
        ({"amount": "10.001"}, "amount"),
        ({"amount": "0.00"}, "amount"),
        ({"amount": "-1.00"}, "amount"),
        ({"currency": "XXX"}, "currency"),
        ({"currency": "USD"}, "currency"),  # not the session's
        ({"transaction_id": ""}, "transaction_id"),
        ({"transaction_id": "x" * 256}, "transaction_id"),
        ({"round_id": None}, "round_id"),
        ({"session_token": 7}, "session_token"),
    ],
)
def test_a_bet_that_is_not_valid(provider, token, wallet, body, field):
    call = {"session_token": token, "transaction_id": "tx-1", "round_id": "r-1", "amount": "1.00", "currency": "EUR"}
    before = books(wallet)
    problem = assert_problem(provider.post("bet", {**call, **body}), 400, "VALIDATION_ERROR")
    assert field in problem["errors"], problem
    assert books(wallet) == before


@pytest.mark.parametrize("raw", [b"[]", b"not json", b'{"a": "\\u0000"}', b"\xff\xfe"])
def test_a_signed_body_that_is_no_json_object(provider, wallet, raw):
    assert_problem(provider.post("bet", raw), 400, "VALIDATION_ERROR")


def test_a_session_token_nobody_issued(provider, wallet):
    before = books(wallet)
    assert_problem(provider.bet("gs_nobody", "tx-1"), 404, "GAME_SESSION_UNKNOWN")
    assert_problem(provider.balance("gs_nobody"), 404, "GAME_SESSION_UNKNOWN")
    assert books(wallet) == before


def test_a_loss_limit_refuses_the_bet_that_would_pass_it(provider, token, wallet, player):
    PlayerLimit.objects.create(
        player=player, tenant=player.tenant, currency="EUR", kind="loss", period="day", amount=30_00
    )
    provider.bet(token, "tx-1", amount="20.00")
    provider.win(token, "tx-2", amount="5.00")  # net loss 15.00
    # exactly at the limit passes: 15.00 + 15.00 = 30.00
    assert provider.bet(token, "tx-3", round_id="r-2", amount="15.00").status_code == 200
    before = money_books(wallet)
    body = assert_problem(provider.bet(token, "tx-4", round_id="r-2", amount="0.01"), 422, "PLAYER_LIMIT_EXCEEDED")
    assert body == {
        **body,
        "kind": "loss",
        "period": "day",
        "limit": "30.00",
        "used": "30.00",
        "requested": "0.01",
        "currency": "EUR",
    }
    assert money_books(wallet) == before
    assert_refused_bet_kept("tx-4", "PLAYER_LIMIT_EXCEEDED")
    # a rollback brings the net loss down, and the bet fits again
    provider.rollback(token, "rb-1", "tx-3", amount="15.00")
    assert provider.bet(token, "tx-5", round_id="r-3", amount="15.00").status_code == 200


def test_a_loss_limit_waiting_to_be_raised_still_applies(provider, token, wallet, player):
    PlayerLimit.objects.create(
        player=player,
        tenant=player.tenant,
        currency="EUR",
        kind="loss",
        period="week",
        amount=10_00,
        pending=True,
        pending_amount=100_00,
        pending_effective_at=timezone.now() + timedelta(hours=5),
    )
    assert_problem(provider.bet(token, "tx-1", amount="10.01"), 422, "PLAYER_LIMIT_EXCEEDED")
    assert provider.bet(token, "tx-2", amount="10.00").status_code == 200


def owe_after_a_chargeback(player) -> None:
    """A USD deposit spent on a pending withdrawal, then charged back: 20.00 USD owed (ARCHITECTURE 16)."""
    disputed = deposit_with(player, 20_00, "USD")
    request_withdrawal(player=player, amount=20_00, currency="USD", actor=Actor.player(player.user))
    charge_back_deposit(disputed, actor=Actor.psp("sandbox"), reason="Fraudulent transaction")
    assert Wallet.objects.get(player=player, currency="USD").balance_receivable == 20_00


def test_a_bet_while_the_player_owes_after_a_chargeback(provider, token, wallet, player):
    # given a receivable open in another currency: the whole account is restricted
    provider.bet(token, "tx-0", round_id="r-1")
    owe_after_a_chargeback(player)
    before = money_books(wallet)
    body = assert_problem(provider.bet(token, "tx-1", round_id="r-1"), 403, "PLAYER_ACCOUNT_RESTRICTED")
    assert body["reason"] == "receivable"
    assert body["receivables"] == [{"currency": "USD", "amount": "20.00"}]
    assert money_books(wallet) == before
    assert_refused_bet_kept("tx-1", "PLAYER_ACCOUNT_RESTRICTED")
    # a win of the round bet before lands: the provider owes it whatever the player owes
    assert provider.win(token, "tx-2", round_id="r-1", amount="3.00").status_code == 200
    assert Wallet.objects.get(pk=wallet.pk).balance_available == 100_00 - 10_00 + 3_00


def test_a_deposit_that_repays_what_is_owed_lifts_the_restriction_on_play(provider, token, wallet, player):
    owe_after_a_chargeback(player)
    assert_problem(provider.bet(token, "tx-1"), 403, "PLAYER_ACCOUNT_RESTRICTED")
    deposit_with(player, 20_00, "USD")  # repays the receivable first
    assert provider.bet(token, "tx-2").status_code == 200


def test_a_rollback_that_names_itself_is_refused_not_a_500(provider, token, wallet):
    before = books(wallet)
    body = assert_problem(provider.rollback(token, "rb-1", "rb-1"), 400, "VALIDATION_ERROR")
    assert "reference_transaction_id" in body["errors"]
    assert books(wallet) == before
