"""Out of order and late: a rollback before its bet, money that lands after expiry, exclusion, closing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.actors import Actor
from core.models import AuditEvent
from games.models import GameRound, GameSession, GameTransaction, RoundStatus, TransactionStatus
from games.rounds import close_idle_rounds
from players.exclusions import block_player
from tenants.models import Tenant

from .helpers import assert_problem, books, money_books

pytestmark = pytest.mark.django_db


def test_a_rollback_before_its_bet_is_recorded_and_the_late_bet_refused(provider, token, wallet):
    before = books(wallet)
    # when the rollback of a bet we never saw arrives
    rollback = provider.rollback(token, "rb-1", "tx-1", amount="10.00")
    # then it is acknowledged, moves nothing, and is recorded with the bet it cancels
    assert rollback.status_code == 200, rollback.content
    assert rollback.json()["balance"] == "100.00"
    assert money_books(wallet) == (before.available, before.entries, before.postings)
    canceled = GameTransaction.objects.get(transaction_id="tx-1")
    assert (canceled.kind, canceled.status) == ("bet", TransactionStatus.CANCELED)
    assert GameTransaction.objects.get(transaction_id="rb-1").status == TransactionStatus.NO_EFFECT
    event = AuditEvent.objects.get(action="game.rollback_landed")
    assert "before_bet" in event.reason
    # when the bet arrives late, it is refused and nothing moves
    late = provider.bet(token, "tx-1", amount="10.00")
    body = assert_problem(late, 409, "GAME_TRANSACTION_ROLLED_BACK")
    assert (body["transaction_id"], body["rollback_transaction_id"]) == ("tx-1", "rb-1")
    assert money_books(wallet) == (before.available, before.entries, before.postings)
    assert not GameRound.objects.exists()
    # and so it is every time it is retried, whatever its body
    assert provider.bet(token, "tx-1", amount="10.00").content == late.content
    assert_problem(provider.bet(token, "tx-1", amount="99.00"), 409, "GAME_TRANSACTION_ROLLED_BACK")
    # the rollback's own retry gets its first answer
    assert provider.rollback(token, "rb-1", "tx-1", amount="10.00").content == rollback.content


def _expire(token_session) -> None:
    GameSession.objects.filter(pk=token_session.session.pk).update(expires_at=timezone.now() - timedelta(minutes=1))


def test_wins_and_rollbacks_land_after_the_session_expired(provider, session, wallet):
    token = session.token
    provider.bet(token, "tx-1", round_id="r-1", amount="10.00")
    provider.bet(token, "tx-2", round_id="r-2", amount="10.00")
    _expire(session)
    assert_problem(provider.bet(token, "tx-3", round_id="r-3"), 403, "GAME_SESSION_EXPIRED")
    assert provider.win(token, "w-1", round_id="r-1", amount="30.00").json()["balance"] == "110.00"
    assert provider.rollback(token, "rb-1", "tx-2", amount="10.00").json()["balance"] == "120.00"
    assert provider.balance(token).json()["balance"] == "120.00"
    reasons = set(
        AuditEvent.objects.filter(action__in=["game.win_landed", "game.rollback_landed"]).values_list(
            "reason", flat=True
        )
    )
    assert reasons == {"session_expired"}


def test_wins_and_rollbacks_land_while_the_player_is_excluded(provider, token, wallet, player):
    provider.bet(token, "tx-1", round_id="r-1", amount="10.00")
    provider.bet(token, "tx-2", round_id="r-2", amount="10.00")
    block_player(player, actor=Actor.system("tests"), reason="investigation")
    assert_problem(provider.bet(token, "tx-3", round_id="r-3"), 403, "PLAYER_EXCLUDED")
    assert provider.win(token, "w-1", round_id="r-1", amount="30.00").status_code == 200
    assert provider.rollback(token, "rb-1", "tx-2", amount="10.00").status_code == 200
    wallet.refresh_from_db()
    assert wallet.balance_available == 120_00
    assert AuditEvent.objects.filter(action="game.win_landed", reason="player_excluded").exists()


def test_a_win_lands_at_a_suspended_casino(provider, token, wallet, tenant):
    provider.bet(token, "tx-1", amount="10.00")
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.SUSPENDED)
    assert provider.win(token, "w-1", amount="10.00").json()["balance"] == "100.00"


def test_a_win_lands_on_a_round_closed_for_idleness(provider, token, wallet):
    provider.bet(token, "tx-1", amount="10.00")
    assert close_idle_rounds(now=timezone.now() + timedelta(hours=2)) == 1
    assert GameRound.objects.get().close_reason == "idle"
    assert_problem(provider.bet(token, "tx-2", amount="1.00"), 409, "GAME_ROUND_CLOSED")
    assert provider.win(token, "w-1", amount="4.00").json()["balance"] == "94.00"
    assert AuditEvent.objects.filter(action="game.win_landed", reason="round_closed").exists()


def test_a_rollback_lands_on_a_round_closed_without_a_win(provider, token, wallet):
    provider.bet(token, "tx-1", amount="10.00")
    close_idle_rounds(now=timezone.now() + timedelta(hours=2))
    assert provider.rollback(token, "rb-1", "tx-1", amount="10.00").json()["balance"] == "100.00"
    # the round was closed by the sweeper, and the rollback that landed on it is audited as unusual
    assert GameRound.objects.get().close_reason == "idle"
    assert AuditEvent.objects.filter(action="game.rollback_landed", reason="round_closed").exists()


def test_the_sweepers_audit_names_every_round_it_closed(provider, token, wallet):
    for n in range(120):
        provider.bet(token, f"tx-{n}", round_id=f"r-{n}", amount="0.10")
    assert close_idle_rounds(now=timezone.now() + timedelta(hours=2)) == 120
    event = AuditEvent.objects.get(action="game.rounds_closed_idle")
    assert event.data["count"] == 120 and len(event.data["rounds"]) == 120


def test_rounds_close_after_the_tenants_idle_time(provider, token, wallet, tenant):
    from tenants.models import PaymentPolicy

    PaymentPolicy.objects.filter(tenant=tenant).update(game_round_idle_minutes=10)
    provider.bet(token, "tx-1", round_id="quiet", amount="1.00")
    provider.bet(token, "tx-2", round_id="busy", amount="1.00")
    later = timezone.now() + timedelta(minutes=9)
    assert close_idle_rounds(now=later) == 0
    GameRound.objects.filter(round_id="busy").update(last_activity_at=later)
    assert close_idle_rounds(now=timezone.now() + timedelta(minutes=11)) == 1
    statuses = dict(GameRound.objects.values_list("round_id", "status"))
    assert statuses == {"quiet": RoundStatus.CLOSED, "busy": RoundStatus.OPEN}
    event = AuditEvent.objects.get(action="game.rounds_closed_idle")
    assert event.data["count"] == 1 and event.tenant_id == tenant.pk


def test_the_sweeper_runs_in_celery_beat_on_the_games_queue_name():
    from django.conf import settings

    from config.celery import app
    from games.tasks import close_idle_rounds as task

    assert task.name == "games.close_idle_rounds"
    assert task.name in app.tasks
    assert any(entry["task"] == "games.close_idle_rounds" for entry in settings.CELERY_BEAT_SCHEDULE.values())
