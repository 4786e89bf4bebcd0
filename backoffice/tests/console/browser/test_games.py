"""Game providers and the GGR report in a real browser: an admin makes a provider account and reads its
secret once; finance reads what play earned the casino today.

The play is real: a provider's signed calls to the game wallet (bets, wins, a rollback) through the
API, on sessions the players started.
"""

import pytest
from django.utils import timezone

from core.actors import Actor
from games import providers
from games.models import GameProviderAccount
from games.sessions import start_session
from games.tests.helpers import ProviderClient
from wallet.tests.factories import card, fund

from ..helpers import audit_since, last_audit_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_provider_cache():
    """Accounts are cached per process by slug, and each test's rows are flushed: start and end cold."""
    providers.forget()
    yield
    providers.forget()


@pytest.fixture
def acme(casino, ceren):
    """Acme Slots, with two games, as ceren set it up."""
    account, secret = providers.create_provider_account(
        casino, slug="acme-slots", name="Acme Slots", actor=Actor.operator(ceren)
    )
    for code, name in (("book-of-sands", "Book of Sands"), ("fruit-frenzy", "Fruit Frenzy")):
        providers.create_game(
            account, code=code, name=name, launch_url=f"https://games.acme.test/{code}", actor=Actor.operator(ceren)
        )
    return account, secret


def _session(player, game, currency: str) -> str:
    started = start_session(
        player=player,
        game_id=game.pk,
        currency=currency,
        actor=Actor.player(player.user),
        api_origin="http://testserver/",
    )
    return started.token


@pytest.fixture
def played(client, acme, mia, leo):
    """Today at Golden Palace: Mia plays Book of Sands in EUR, Leo Fruit Frenzy in EUR and USD."""
    account, secret = acme
    provider = ProviderClient(client, account.slug, secret)
    sands, frenzy = account.games.order_by("id")
    fund(mia, 200_00, method=card())
    fund(leo, 150_00, method=card("5555555555554444"))
    fund(leo, 80_00, "USD", method=card("5555555555554444"))
    mias, leos, leos_usd = _session(mia, sands, "EUR"), _session(leo, frenzy, "EUR"), _session(leo, frenzy, "USD")
    calls = [
        # Mia: three spins of 20.00, one win of 35.00
        provider.bet(mias, "m-b1", round_id="m-r1", amount="20.00"),
        provider.win(mias, "m-w1", round_id="m-r1", amount="35.00", round_closed=True),
        provider.bet(mias, "m-b2", round_id="m-r2", amount="20.00"),
        provider.win(mias, "m-w2", round_id="m-r2", amount="0.00", round_closed=True),
        provider.bet(mias, "m-b3", round_id="m-r3", amount="20.00"),
        # Leo in EUR: a bet of 50.00 the provider rolled back, then a bet of 40.00 that won 12.50
        provider.bet(leos, "l-b1", round_id="l-r1", amount="50.00"),
        provider.rollback(leos, "l-rb1", "l-b1", amount="50.00"),
        provider.bet(leos, "l-b2", round_id="l-r2", amount="40.00"),
        provider.win(leos, "l-w2", round_id="l-r2", amount="12.50", round_closed=True),
        # Leo in USD: two bets of 15.00, a win of 45.00
        provider.bet(leos_usd, "u-b1", round_id="u-r1", amount="15.00", currency="USD"),
        provider.bet(leos_usd, "u-b2", round_id="u-r1", amount="15.00", currency="USD"),
        provider.win(leos_usd, "u-w1", round_id="u-r1", amount="45.00", currency="USD", round_closed=True),
    ]
    assert [call.status_code for call in calls] == [200] * len(calls), [call.content for call in calls]


def test_an_admin_makes_a_game_provider_account_and_reads_its_secret_once(open_console, ceren, acme):
    console = open_console(ceren)
    page = console.page
    mark = last_audit_id()
    # when ceren opens Game providers from the menu
    console.submit(page.get_by_role("link", name="Game providers"))
    # then Acme Slots is there, active, with its games and the first characters of its secret only
    acme_panel = page.locator("[data-testid=game-provider][data-slug=acme-slots]")
    text = acme_panel.inner_text()
    assert "Acme Slots" in text and "active" in text and "Book of Sands" in text and "Fruit Frenzy" in text
    assert acme[1] not in page.content() and acme[1][:10] in text
    # when she makes an account for a second studio
    form = page.get_by_test_id("game-provider-form")
    form.get_by_label("Name in the API").fill("nova-live")
    form.get_by_label("Display name").fill("Nova Live Casino")
    console.submit(form.get_by_role("button", name="Make an account"))
    # then its signing secret is shown once, above both accounts
    nova = GameProviderAccount.objects.get(slug="nova-live")
    secret = page.get_by_test_id("new-secret-value").inner_text()
    assert secret.startswith("whsec_")
    assert "New signing secret of “nova-live”" in page.get_by_test_id("new-secret").inner_text()
    nova_panel = page.locator("[data-testid=game-provider][data-slug=nova-live]")
    assert "Nova Live Casino" in nova_panel.inner_text()
    assert nova_panel.get_by_test_id("secrets").locator("tbody tr").count() == 1
    console.shot("console-game-providers")
    # and never again
    console.goto("/console/game-providers/")
    assert page.get_by_test_id("new-secret").count() == 0 and secret not in page.content()
    assert [
        (e.action, e.target_id, e.actor_user_id) for e in audit_since(mark, action__startswith="game_provider.")
    ] == [("game_provider.created", str(nova.pk), ceren.pk)]


def test_finance_reads_todays_ggr_per_currency(open_console, casino, anna, played):
    console = open_console(anna)
    page = console.page
    # when anna opens Reports: the last seven days, today included
    console.submit(page.get_by_role("link", name="Reports"))
    today = timezone.localdate(timezone=casino.zone).isoformat()  # the casino's day, not UTC's
    # then today's play is one row per currency: bets, wins, rolled-back bets (with counts) and GGR
    report = page.get_by_test_id("ggr")
    eur = report.locator(f"tbody tr[data-day='{today}'][data-currency=EUR]").inner_text().split("\t")
    usd = report.locator(f"tbody tr[data-day='{today}'][data-currency=USD]").inner_text().split("\t")
    # EUR: bets 60.00 + 90.00, wins 35.00 + 12.50, 50.00 rolled back: 150.00 − 47.50 − 50.00 = 52.50
    assert eur[1:] == ["EUR", "150.00 EUR (5)", "47.50 EUR (2)", "50.00 EUR (1)", "+52.50 EUR"]
    # USD: bets 30.00, a win of 45.00: the casino lost 15.00
    assert usd[1:] == ["USD", "30.00 USD (2)", "45.00 USD (1)", "0.00 USD (0)", "−15.00 USD"]
    totals = [row.split("\t") for row in report.get_by_test_id("ggr-total").all_inner_texts()]
    assert [t[-1] for t in totals] == ["+52.50 EUR", "−15.00 USD"]
    assert page.get_by_test_id("ggr-csv").is_visible()
    console.shot("console-ggr")
