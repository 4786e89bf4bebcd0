"""Reconciliation of the game wallet (reconciliation.game_checks): planted corruptions are found,
clean play and another tenant's corruption are not reported."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from core.actors import Actor
from games.models import GameRound, GameTransaction
from reconciliation.models import Finding
from reconciliation.services import run_reconciliation
from wallet.models import JournalEntry, LedgerEvent

pytestmark = pytest.mark.django_db


def findings(tenant, kind) -> list[Finding]:
    run = run_reconciliation(tenant, actor=Actor.system("tests"))
    return list(Finding.objects.filter(run=run, type=kind))


@pytest.fixture
def played(provider, token):
    provider.bet(token, "b-1", round_id="r-1", amount="10.00")
    provider.win(token, "w-0", round_id="r-1", amount="0.00")
    provider.win(token, "w-1", round_id="r-1", amount="4.00")
    return {t.transaction_id: t for t in GameTransaction.objects.all()}


def test_clean_play_has_no_game_findings(played, tenant):
    run = run_reconciliation(tenant, actor=Actor.system("tests"))
    assert not Finding.objects.filter(run=run, type__startswith="game_").exists()


def test_an_applied_transaction_without_its_ledger_event(played, tenant):
    # given an applied bet planted without any money event (inserts pass the append-only trigger)
    bet = played["b-1"]
    planted = GameTransaction.objects.create(
        account_id=bet.account_id,
        tenant_id=bet.tenant_id,
        player_id=bet.player_id,
        wallet_id=bet.wallet_id,
        kind="bet",
        status="applied",
        transaction_id="ghost",
        amount=1_00,
        currency="EUR",
        response_status=200,
        response_body="{}",
        created_at=timezone.now(),
    )
    [found] = findings(tenant, "game_transaction_event_count")
    assert (found.object_id, found.expected["events"], found.actual["events"]) == (str(planted.pk), 1, 0)
    assert found.severity == "critical"


def test_a_second_or_wrong_event_and_an_event_on_a_no_effect_transaction(played, tenant):
    bet, zero_win = played["b-1"], played["w-0"]
    JournalEntry.objects.create(
        tenant_id=tenant.pk, currency="EUR", event_type=LedgerEvent.WIN_PAID, game_transaction_id=bet.pk
    )
    JournalEntry.objects.create(
        tenant_id=tenant.pk, currency="EUR", event_type=LedgerEvent.WIN_PAID, game_transaction_id=zero_win.pk
    )
    orphan = uuid.uuid4()
    JournalEntry.objects.create(
        tenant_id=tenant.pk, currency="EUR", event_type=LedgerEvent.BET_PLACED, game_transaction_id=orphan
    )
    found = {f.object_id: f for f in findings(tenant, "game_transaction_event_count")}
    assert set(found) == {str(bet.pk), str(zero_win.pk), str(orphan)}
    assert found[str(bet.pk)].actual == {"events": 2, "of_the_right_type": 1}
    assert found[str(zero_win.pk)].expected["events"] == 0
    assert found[str(orphan)].detail["unknown_transaction"] is True


def test_round_totals_that_differ_from_their_transactions(played, tenant):
    GameRound.objects.filter(round_id="r-1").update(bet_total=11_00)
    [found] = findings(tenant, "game_round_totals_mismatch")
    assert found.expected == {"bets": 10_00, "wins": 4_00, "rolled_back": 0}
    assert found.actual["bets"] == 11_00


def test_an_open_round_past_the_idle_time_and_grace(provider, token, tenant):
    provider.bet(token, "b-1", round_id="r-1", amount="1.00")
    provider.bet(token, "b-2", round_id="r-2", amount="1.00")
    now = timezone.now()
    GameRound.objects.filter(round_id="r-1").update(last_activity_at=now - timedelta(minutes=60 + 11))
    GameRound.objects.filter(round_id="r-2").update(last_activity_at=now - timedelta(minutes=60 + 9))
    [found] = findings(tenant, "game_round_idle_open")
    assert found.detail["round_id"] == "r-1" and found.expected == {"max_idle_minutes": 60}


def test_another_tenants_corruption_is_not_in_my_run(played, tenant, other_tenant):
    GameRound.objects.filter(round_id="r-1").update(bet_total=11_00)
    assert findings(other_tenant, "game_round_totals_mismatch") == []
