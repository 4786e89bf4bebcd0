"""The player wallet page in a real browser (Debian's chromium through Playwright).

Each money action is one intent with one Idempotency-Key: a double click or a retry after
a dropped connection does it once; refusals show their error_code as a clear message.
"""

import pytest

from payouts.sandbox import engine
from wallet.models import Deposit, JournalEntry, Withdrawal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def balance(page, column: str, currency: str = "EUR") -> str:
    return page.inner_text(f"#balance-rows tr[data-currency={currency}] td.{column}")


def wait_for_balance(page, column: str, expected: str) -> None:
    page.wait_for_function(
        "([column, expected]) => document.querySelector(`#balance-rows tr[data-currency=EUR] td.${column}`)"
        "?.textContent === expected",
        arg=[column, expected],
        timeout=20_000,
    )


def test_a_deposit_goes_through_the_psp_checkout_and_is_credited_once(wallet_page, player):
    page = wallet_page
    # given a player with 200.00 EUR available
    assert balance(page, "available") == "200.00"
    # when the player deposits 30.00 and pays on the PSP's hosted checkout
    page.fill("#deposit-form input[name=amount]", "30.00")
    page.click("[data-testid=deposit-button]")
    page.wait_for_url("**/checkout/**")
    assert "30.00 EUR" in page.inner_text("[data-testid=amount]")
    page.click("[data-testid=pay]")
    page.wait_for_selector("[data-testid=status]")
    # and the PSP's signed webhook reaches the casino, and the player goes back to the wallet
    assert engine.deliver_due() == 1
    page.click("text=Back to the casino")
    # then the wallet shows 230.00, and the deposit was credited exactly once
    wait_for_balance(page, "available", "230.00")
    deposit = Deposit.objects.get(player=player, amount=30_00)
    assert deposit.state == "completed"
    assert JournalEntry.objects.filter(deposit=deposit, event_type="deposit_completed").count() == 1


def test_a_double_click_on_withdraw_makes_one_withdrawal(wallet_page, player):
    page = wallet_page
    # given the withdraw form with 10.00
    page.fill("#withdraw-form input[name=amount]", "10.00")
    # when the player double-clicks the button
    page.dblclick("[data-testid=withdraw-button]")
    page.wait_for_selector("[data-testid=notice][data-kind=ok]")
    wait_for_balance(page, "held", "10.00")
    page.wait_for_timeout(500)  # room for a second request, were there one
    # then there is one withdrawal, and 10.00 moved from available to held once
    assert Withdrawal.objects.filter(player=player).count() == 1
    assert (balance(page, "available"), balance(page, "held")) == ("190.00", "10.00")


def test_a_limit_refusal_explains_itself_and_moves_nothing(wallet_page, player):
    page = wallet_page
    # given a daily withdrawal limit of 50.00 EUR
    # when the player asks for 60.00
    page.fill("#withdraw-form input[name=amount]", "60.00")
    page.click("[data-testid=withdraw-button]")
    notice = page.wait_for_selector("[data-testid=notice][data-kind=error]")
    # then the message names the limit, what was used and what was asked, and nothing moved
    text = notice.inner_text()
    assert "50.00 EUR" in text and "0.00" in text and "60.00" in text, text
    assert (balance(page, "available"), balance(page, "held")) == ("200.00", "0.00")
    assert not Withdrawal.objects.filter(player=player).exists()
    # and in Turkish, after switching the language, the same refusal reads in Turkish
    page.select_option("#lang", "tr")
    page.wait_for_selector("html[lang=tr] #balance-rows tr[data-currency=EUR]")
    page.fill("#withdraw-form input[name=amount]", "60.00")
    page.click("[data-testid=withdraw-button]")
    turkish = page.wait_for_selector("[data-testid=notice][data-kind=error]").inner_text()
    assert "Günlük" in turkish and "50.00 EUR" in turkish, turkish


def test_insufficient_funds_is_explained(wallet_page, player):
    page = wallet_page
    page.fill("#withdraw-form input[name=amount]", "40.00")
    page.select_option("#withdraw-form select[name=currency]", "USD")
    page.click("[data-testid=withdraw-button]")
    text = page.wait_for_selector("[data-testid=notice][data-kind=error]").inner_text()
    assert "0.00 USD" in text and "40.00" in text, text
    assert not Withdrawal.objects.filter(player=player).exists()


def test_a_request_retried_after_a_dropped_connection_happens_once(wallet_page, player):
    page = wallet_page
    seen = []

    def drop_the_first_answer(route, request):
        seen.append(request.headers.get("idempotency-key"))
        if len(seen) == 1:
            route.fetch()  # the casino receives and performs the request...
            route.abort("connectionreset")  # ...but its answer never reaches the browser
        else:
            route.continue_()

    page.route("**/api/v1/withdrawals/", drop_the_first_answer)
    # when the player withdraws 15.00 and the first answer is lost on the way back
    page.fill("#withdraw-form input[name=amount]", "15.00")
    page.click("[data-testid=withdraw-button]")
    page.wait_for_selector("[data-testid=notice][data-kind=ok]", timeout=20_000)
    # then the page sent the same request again with the same key and got the stored answer:
    # one withdrawal, 15.00 held once
    assert len(seen) >= 2 and len(set(seen)) == 1, seen
    assert Withdrawal.objects.filter(player=player).count() == 1
    wait_for_balance(page, "held", "15.00")
    assert balance(page, "available") == "185.00"


def test_signing_out_ends_the_pages_token(wallet_page, player):
    page = wallet_page
    # given the signed-in page, whose script calls the API with its session's token
    token = page.get_attribute("#app", "data-token")
    assert token.startswith("ps_")
    fetch = "(token) => fetch('/api/v1/wallet/', {headers: {Authorization: `Token ${token}`}}).then((r) => r.status)"
    assert page.evaluate(fetch, token) == 200
    # when the player signs out
    with page.expect_navigation():
        page.click("text=Sign out")
    assert "/play/login/" in page.url
    # then the same token gets 401, and going back does not bring the page (and its token) back from a cache
    assert page.evaluate(fetch, token) == 401
    page.go_back(wait_until="load")
    assert "/play/login/" in page.url
    assert page.locator(f"[data-token='{token}']").count() == 0
