"""The operator's view of play: GGR per day and currency (API, console, CSV), game activity on
the player page, play since the last deposit on the withdrawal page."""

import csv
import io
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from backoffice.tests.console.helpers import sign_in
from core.actors import Actor
from games import providers
from games.models import GameTransaction
from players.tests.factories import PlayerFactory
from tenants.tests.factories import TenantFactory
from wallet.tests.api.helpers import assert_problem, assert_validation_error, client_for
from wallet.tests.builders import withdraw
from wallet.tests.factories import fund
from wallet.tests.staff import VIEWER, operator_user

from .conftest import new_session
from .helpers import ProviderClient

pytestmark = pytest.mark.django_db

GGR = "/api/v1/admin/reports/ggr/"
CONSOLE_GGR = "/console/reports/ggr/"


# Days are the casino's: near midnight UTC its calendar day is already another one.
CASINO_ZONE = ZoneInfo(TenantFactory._meta.declarations["time_zone"])


def today() -> str:
    return timezone.localdate(timezone=CASINO_ZONE).isoformat()


def play(provider, token):
    """Bets 10 + 7 + 3, a win of 4 and a zero win, 7 rolled back, one refused bet: GGR 10 + 7 + 3 − 4 − 7 = 9."""
    provider.bet(token, "b-1", round_id="r-1", amount="10.00")
    provider.win(token, "w-1", round_id="r-1", amount="4.00", round_closed=True)
    provider.bet(token, "b-2", round_id="r-2", amount="7.00")
    provider.rollback(token, "rb-2", "b-2", amount="7.00")
    provider.bet(token, "b-3", round_id="r-3", amount="3.00")
    provider.win(token, "w-3", round_id="r-3", amount="0.00")
    assert provider.bet(token, "b-4", round_id="r-4", amount="900.00").status_code == 422  # refused: no money


@pytest.fixture
def other_play(client):
    """Another casino's play on the same day: never in this casino's report."""
    tenant = TenantFactory(allowed_currencies=["EUR"])
    account, secret = providers.create_provider_account(
        tenant, slug="other-slots", name="Other", actor=Actor.system("t")
    )
    game = providers.create_game(
        account, code="slot", name="Slot", launch_url="http://games.test/slot", actor=Actor.system("t")
    )
    player = PlayerFactory(tenant=tenant)
    fund(player, 100_00)
    other = ProviderClient(client, account.slug, secret)
    other.bet(new_session(player, game).token, "ob-1", round_id="or-1", amount="50.00")
    return tenant


@pytest.fixture
def viewer_api(tenant):
    return client_for(operator_user(tenant, VIEWER))


def test_ggr_is_bets_minus_wins_minus_rolled_back_per_day_and_currency(provider, token, viewer_api, other_play):
    play(provider, token)
    response = viewer_api.get(GGR, {"from": today(), "to": today()})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "from": today(),
        "to": today(),
        "results": [
            {
                "date": today(),
                "currency": "EUR",
                "bets": "20.00",
                "wins": "4.00",
                "rolled_back": "7.00",
                "ggr": "9.00",
                "bet_count": 3,
                "win_count": 1,  # the zero win moved nothing
                "rollback_count": 1,
            }
        ],
    }


def test_the_csv_export_has_the_same_figures(provider, token, viewer_api, other_play):
    play(provider, token)
    response = viewer_api.get(GGR, {"from": today(), "to": today(), "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["date", "currency", "bets", "wins", "rolled_back", "ggr", "bet_count", "win_count", "rollback_count"],
        [today(), "EUR", "20.00", "4.00", "7.00", "9.00", "3", "1", "1"],
    ]


def test_days_outside_the_range_and_losing_days_read_right(provider, token, viewer_api):
    provider.bet(token, "b-1", round_id="r-1", amount="1.00")
    provider.win(token, "w-1", round_id="r-1", amount="25.00")
    yesterday = (timezone.localdate(timezone=CASINO_ZONE) - timedelta(days=1)).isoformat()
    assert viewer_api.get(GGR, {"from": yesterday, "to": yesterday}).json()["results"] == []
    [row] = viewer_api.get(GGR, {"from": yesterday, "to": today()}).json()["results"]
    assert row["ggr"] == "-24.00"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "from"),
        ({"from": "2026-01-01"}, "to"),
        ({"from": "2026-1-1", "to": "2026-01-02"}, "from"),
        ({"from": "2026-01-01", "to": "yesterday"}, "to"),
        ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),  # 367 days
    ],
)
def test_bad_missing_reversed_or_too_long_ranges_are_400(viewer_api, params, field):
    assert_validation_error(viewer_api.get(GGR, params), field)
    assert_validation_error(viewer_api.get(GGR, {**params, "format": "csv"}), field)


def test_a_366_day_range_is_allowed(viewer_api):
    assert viewer_api.get(GGR, {"from": "2025-01-01", "to": "2026-01-01"}).status_code == 200


def test_the_report_needs_an_operator(player):
    assert_problem(client_for(player).get(GGR, {"from": today(), "to": today()}), 401, "AUTHENTICATION_REQUIRED")


def test_the_console_page_shows_the_day_and_exports_csv(provider, token, tenant, other_play):
    play(provider, token)
    console = sign_in(operator_user(tenant, VIEWER))
    page = console.get(CONSOLE_GGR, {"from": today(), "to": today()})
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-currency="EUR"' in text and "9.00" in text and "50.00" not in text
    assert 'href="/console/reports/ggr/"' in console.get("/console/players/").content.decode()
    export = console.get(CONSOLE_GGR, {"from": today(), "to": today(), "format": "csv"})
    assert export.content.decode().splitlines()[1] == f"{today()},EUR,20.00,4.00,7.00,9.00,3,1,1"
    refused = console.get(CONSOLE_GGR, {"from": today(), "to": "2000-01-01"})
    assert refused.status_code == 400 and 'data-testid="ggr-refused"' in refused.content.decode()
    assert console.get(CONSOLE_GGR).status_code == 200  # the last seven days by default


def test_the_player_page_shows_rounds_and_play_since_the_last_deposit(provider, token, player, tenant, viewer_api):
    play(provider, token)
    detail = viewer_api.get(f"/api/v1/admin/players/{player.pk}/").json()
    rounds = {r["round_id"]: r for r in detail["game_activity"]["rounds"]}
    assert set(rounds) == {"r-1", "r-2", "r-3"}
    assert (rounds["r-1"]["bets"], rounds["r-1"]["wins"], rounds["r-1"]["status"]) == ("10.00", "4.00", "closed")
    assert rounds["r-1"]["close_reason"] == "round_closed"
    assert (rounds["r-2"]["rolled_back"], rounds["r-2"]["rollback_count"], rounds["r-2"]["status"]) == (
        "7.00",
        1,
        "open",
    )
    [since] = detail["game_activity"]["since_last_deposit"]
    assert (since["currency"], since["bets"], since["bet_count"], since["wins"], since["win_count"]) == (
        "EUR",
        "20.00",
        3,
        "4.00",
        1,
    )
    assert since["rolled_back"] == "7.00"
    page = sign_in(operator_user(tenant, VIEWER)).get(f"/console/players/{player.pk}/").content.decode()
    assert 'data-testid="game-activity"' in page and 'data-round="r-2"' in page
    assert 'data-testid="play-since-deposit"' in page


def test_a_new_deposit_restarts_play_since_the_last_deposit(provider, token, player, tenant):
    play(provider, token)
    fund(player, 10_00)
    withdrawal = withdraw(player, 5_00)
    page = sign_in(operator_user(tenant, VIEWER)).get(f"/console/withdrawals/{withdrawal.pk}/").content.decode()
    section = page.split('data-testid="play-since-deposit"')[1].split("</table>")[0]
    assert "(0)" in section and "20.00" not in section


def test_another_tenants_player_has_no_game_activity_for_me(other_play, viewer_api):
    other = GameTransaction.objects.filter(tenant=other_play).first()
    assert viewer_api.get(f"/api/v1/admin/players/{other.player_id}/").status_code == 404
    assert json.loads(viewer_api.get(GGR, {"from": today(), "to": today()}).content)["results"] == []
