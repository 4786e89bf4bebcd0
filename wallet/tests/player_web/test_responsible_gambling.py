"""The player page's responsible gambling section, and Cancel where the casino forbids reverse withdrawals,
in a real browser (Debian's chromium through Playwright), in English and in Turkish."""

from datetime import timedelta

import pytest
from django.utils import timezone

from players.models import Exclusion, PlayerLimit
from tenants.models import PaymentPolicy
from wallet.models import Deposit, Withdrawal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTICE_OK = "[data-testid=notice][data-kind=ok]"
NOTICE_ERROR = "[data-testid=notice][data-kind=error]"


def local_time(page, moment) -> str:
    """A moment as the page shows it: in the page's language and the browser's time zone."""
    return page.evaluate("(iso) => new Date(iso).toLocaleString(document.documentElement.lang)", moment.isoformat())


def wait_for_notice(page, selector: str, containing: str) -> str:
    page.wait_for_function(
        "([selector, text]) => document.querySelector(selector)?.textContent.includes(text)", arg=[selector, containing]
    )
    return page.inner_text(selector)


def set_limit(page, amount: str, kind: str = "deposit", period: str = "day") -> None:
    page.select_option("#limit-form select[name=kind]", kind)
    page.select_option("#limit-form select[name=period]", period)
    page.fill("#limit-form input[name=amount]", amount)
    page.click("[data-testid=limit-button]")


def deposit(page, amount: str) -> None:
    page.fill("#deposit-form input[name=amount]", amount)
    page.click("[data-testid=deposit-button]")


def set_cancel_allowed(casino, allowed: bool) -> None:
    PaymentPolicy.objects.filter(tenant=casino).update(player_cancel_allowed=allowed)


def test_a_limit_is_set_then_a_raise_waits_with_the_date_it_applies(wallet_page, player):
    page = wallet_page
    # given a player without limits, who deposited 200.00 EUR today
    page.wait_for_selector("#limit-rows >> text=You have set no limits.")
    # when the player sets a daily deposit limit of 250.00 EUR
    set_limit(page, "250.00")
    wait_for_notice(page, NOTICE_OK, "applies now")
    row = "#limit-rows tr[data-currency=EUR][data-kind=deposit][data-period=day]"
    page.wait_for_selector(f"{row} td.amount >> text=250.00 EUR")
    # then a deposit that would go over it is refused, naming the limit, what was used and what was asked
    deposit(page, "60.00")
    refused = wait_for_notice(page, NOTICE_ERROR, "limit")
    assert "deposit limit of 250.00 EUR per 24 hours" in refused and "200.00" in refused and "60.00" in refused
    assert Deposit.objects.filter(player=player).count() == 1
    # when the player raises it to 500.00
    set_limit(page, "500.00")
    raised = wait_for_notice(page, NOTICE_OK, "becomes 500.00 EUR")
    # then the raise waits for the cooling-off (24 hours), shown with the moment it applies in the
    # player's local format, and 250.00 stays in force until then
    limit = PlayerLimit.objects.get(player=player)
    assert limit.amount == 250_00 and limit.pending and limit.pending_amount == 500_00
    assert abs(limit.pending_effective_at - (timezone.now() + timedelta(hours=24))) < timedelta(minutes=1)
    when = local_time(page, limit.pending_effective_at)
    assert when in raised and "until then 250.00 EUR applies" in raised, raised
    page.wait_for_selector(f"{row} td.pending >> text=500.00 EUR from {when}")
    assert page.inner_text(f"{row} td.amount") == "250.00 EUR"


def test_a_break_after_its_confirmation_refuses_deposits_while_withdrawals_still_work(wallet_page, player):
    page = wallet_page
    # when the player asks for a break of 3 days
    page.fill("#break-form input[name=days]", "3")
    page.click("[data-testid=break-button]")
    # then a confirmation says what it means before anything happens
    confirm = page.wait_for_selector("[data-testid=exclusion-confirm]", state="visible")
    text = confirm.inner_text()
    assert "Take a break until" in text
    assert "You cannot deposit or play until" in text
    assert "You can still withdraw your money." in text
    assert "cannot be undone or shortened" in text
    assert not Exclusion.objects.filter(player=player).exists()
    # and going back starts nothing
    page.click("[data-testid=confirm-back]")
    page.wait_for_selector("[data-testid=exclusion-confirm]", state="hidden")
    assert not Exclusion.objects.filter(player=player).exists()
    # when the player asks again and confirms
    page.click("[data-testid=break-button]")
    page.click("[data-testid=confirm-exclusion]")
    started = wait_for_notice(page, NOTICE_OK, "You are taking a break until")
    # then the break runs for 3 days, and the section shows it with its end
    exclusion = Exclusion.objects.get(player=player)
    assert (exclusion.kind, exclusion.ends_at - exclusion.starts_at) == ("timeout", timedelta(days=3))
    ends = local_time(page, exclusion.ends_at)
    assert ends in started
    page.wait_for_selector(f"[data-testid=exclusion-status] >> text={ends}")
    # and a deposit is refused with the translated message, nothing created
    deposit(page, "10.00")
    refused = wait_for_notice(page, NOTICE_ERROR, "No deposits or play during your break")
    assert ends in refused and "You can still withdraw" in refused, refused
    assert Deposit.objects.filter(player=player).count() == 1  # the funding deposit only
    # while a withdrawal still goes through
    page.fill("#withdraw-form input[name=amount]", "10.00")
    page.click("[data-testid=withdraw-button]")
    wait_for_notice(page, NOTICE_OK, "Withdrawal of 10.00 EUR requested")
    assert Withdrawal.objects.filter(player=player, amount=10_00).count() == 1
    # and in Turkish the break and the refusal read in Turkish
    page.select_option("#lang", "tr")
    page.wait_for_selector("html[lang=tr] [data-testid=exclusion-status]:not([hidden])")
    assert "mola veriyorsunuz" in page.inner_text("[data-testid=exclusion-status]")
    deposit(page, "10.00")
    turkish = wait_for_notice(page, NOTICE_ERROR, "mola süreniz boyunca")
    assert local_time(page, exclusion.ends_at) in turkish and "para yatırma ve oyun yok" in turkish, turkish


def test_self_exclusion_for_good_says_so_before_it_starts(wallet_page, player):
    page = wallet_page
    # when the player ticks "permanently" and asks to self-exclude
    page.check("#self-exclusion-form input[name=permanent]")
    assert page.is_disabled("#self-exclusion-form input[name=days]")
    page.click("[data-testid=self-exclusion-button]")
    # then the confirmation says it never ends, and going back leaves the player as they were
    text = page.wait_for_selector("[data-testid=exclusion-confirm]", state="visible").inner_text()
    assert "Exclude yourself permanently?" in text and "You can never deposit or play here again." in text
    page.click("[data-testid=confirm-back]")
    assert not Exclusion.objects.filter(player=player).exists()


def test_no_cancel_button_where_the_casino_forbids_reverse_withdrawals(wallet_page, casino, player):
    page = wallet_page
    # given a casino that allows no reverse withdrawals
    set_cancel_allowed(casino, False)
    # when the player requests a withdrawal
    page.fill("#withdraw-form input[name=amount]", "10.00")
    page.click("[data-testid=withdraw-button]")
    page.wait_for_selector(NOTICE_OK)
    # then it is listed awaiting review, without a Cancel button
    page.wait_for_selector("#history-rows tr[data-state=requested]")
    assert page.locator("#history-rows [data-testid=cancel]").count() == 0


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "This casino does not allow a withdrawal to be canceled once it is requested."),
        ("tr", "Bu casino, talep edilmiş bir para çekme işleminin iptal edilmesine izin vermiyor."),
    ],
)
def test_a_cancel_that_reaches_the_api_after_the_casino_forbade_it_is_explained(
    wallet_page, casino, player, language, message
):
    page = wallet_page
    # given a requested withdrawal with its Cancel button, while the casino still allowed cancels
    if language != "en":
        page.select_option("#lang", language)
        page.wait_for_selector(f"html[lang={language}] #balance-rows tr[data-currency=EUR]")
    page.fill("#withdraw-form input[name=amount]", "10.00")
    page.click("[data-testid=withdraw-button]")
    page.wait_for_selector("#history-rows tr[data-state=requested] [data-testid=cancel]")
    # when the casino forbids reverse withdrawals and the player clicks Cancel on the page as it was
    set_cancel_allowed(casino, False)
    page.click("#history-rows tr[data-state=requested] [data-testid=cancel]")
    # then the refusal is explained in the player's language, the money stays held, and Cancel is gone
    assert wait_for_notice(page, NOTICE_ERROR, message[:20]) == message
    assert Withdrawal.objects.get(player=player).state == "requested"
    page.wait_for_selector("#history-rows tr[data-state=requested]")
    page.wait_for_function("() => !document.querySelector('#history-rows [data-testid=cancel]')")
