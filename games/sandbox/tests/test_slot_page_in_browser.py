"""The slot's page in a real browser (Debian's chromium through Playwright), against the fake wallet.

The end-to-end test from the casino's player page, against the real game wallet, is
test_end_to_end_browser.py.
"""

import pytest
from playwright.sync_api import expect

from games.sandbox import rng
from games.sandbox.money import to_text
from games.sandbox.server import start
from wallet.tests.browser import chromium

from .conftest import SLUG

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def slot_browser():
    with chromium() as opened:
        yield opened


@pytest.fixture
def game_origin(game):
    server, stop = start(game, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.server_port}"
    stop.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(slot_browser):
    context = slot_browser.new_context(locale="en-US")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def rounds(page) -> list[str]:
    return page.eval_on_selector_all("#history tr", "rows => rows.map(r => r.dataset.round)")


def test_spinning_moves_the_balance_and_the_history(page, game_origin, wallet, session):
    # given the launch page of a player with 100.00 EUR at the casino
    page.goto(f"{game_origin}/play/{SLUG}/slot?session={session}")
    assert page.inner_text("[data-testid=balance]") == "100.00"
    # when the player picks a bet of 2.00 by its label and spins
    page.get_by_label("Bet (EUR)").select_option("2.00")
    page.get_by_role("button", name="Spin").click()
    expect(page.locator("#history tr")).to_have_count(1)
    # then the page shows the reels of the seeded outcome, the casino's new balance and the round
    (round_id,) = rounds(page)
    spun = rng.outcome("test-seed", round_id)
    assert page.get_attribute("#reels", "aria-label") == "Reels: " + ", ".join(
        {"cherry": "Cherry", "lemon": "Lemon", "bell": "Bell", "bar": "BAR", "seven": "7"}[s] for s in spun.reels
    )
    expected = 100_00 - 2_00 + spun.win(2_00)
    assert wallet.balance_of(session) == expected
    assert page.inner_text("[data-testid=balance]") == to_text(expected, "EUR")
    assert page.inner_text("[data-testid=message]")
    # and a double click on Spin plays one more round, not two
    page.get_by_role("button", name="Spin").dblclick()
    expect(page.locator("#history tr")).to_have_count(2)
    page.wait_for_timeout(500)  # room for a second round, were there one
    assert len(rounds(page)) == 2 and len(wallet.calls("bet")) == 2


def test_a_refusal_is_shown_and_the_balance_stays(page, game_origin, wallet, session):
    wallet.balances[session][0] = 1_50
    page.goto(f"{game_origin}/play/{SLUG}/slot?session={session}")
    page.get_by_label("Bet (EUR)").select_option("2.00")
    page.get_by_role("button", name="Spin").click()
    page.wait_for_selector("[data-testid=message]:has-text('Not enough money')")
    assert page.inner_text("[data-testid=balance]") == "1.50"
    assert page.get_attribute("#history tr", "data-state") == "refused"
