"""Chargebacks in a real browser: the Disputes page, a restricted player's page, a withdrawal's destination.

The books are built only through the wallet's services: deposits completed with the payment
method the PSP reported, withdrawals naming their destination, a chargeback the PSP sent.
"""

import pytest

from core.actors import Actor
from wallet.models import PaymentMethod
from wallet.services import (
    approve_withdrawal,
    charge_back_deposit,
    mark_withdrawal_paid,
    request_withdrawal,
    reverse_chargeback,
)
from wallet.tests.builders import PSP, player_of
from wallet.tests.factories import bank_account, card, deposit_with

from ..helpers import detail_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VISA = "4242424242424242"  # Mia's card, which Leo paid with too


def _method(deposit) -> PaymentMethod:
    return PaymentMethod.objects.get(pk=deposit.payment_method_id)


def _withdraw(player, amount: int, method: PaymentMethod, currency: str = "EUR"):
    return request_withdrawal(
        player=player, amount=amount, currency=currency, actor=player_of(player), payment_method=method.pk
    )


@pytest.fixture
def books(mia, leo, anna, burak):
    """Mia paid 200.00 EUR by Visa and 50.00 by bank transfer; 120.00 went back to the Visa (paid) and
    40.00 waits for the bank account; then the Visa deposit was charged back: it took her 90.00
    available and she owes the casino 110.00. Leo paid with the same Visa (100.00), a bank account
    (40.00) and an e-wallet that cannot receive payouts (30.00), and asks 80.00 to the Visa; his
    card deposit of 25.00 USD was charged back and the chargeback reversed."""
    disputed = deposit_with(mia, 200_00, method=card(VISA))
    mias_bank = _method(deposit_with(mia, 50_00, method=bank_account()))
    paid = _withdraw(mia, 120_00, _method(disputed))
    approve_withdrawal(paid, actor=Actor.operator(anna), reason="Card holder verified")
    mark_withdrawal_paid(paid, actor=Actor.operator(burak), reason="Paid to the card, PSP ref 55120")
    waiting = _withdraw(mia, 40_00, mias_bank)
    charge_back_deposit(disputed, actor=PSP, reason="Card holder disputes the payment (reason code 10.4)")

    leos_visa = _method(deposit_with(leo, 100_00, method=card(VISA)))
    deposit_with(leo, 40_00, method=bank_account("NL91ABNA0417164300"))
    deposit_with(leo, 30_00, method=card("7000123412341234", kind="ewallet", payout_capable=False))
    reversed_ = deposit_with(leo, 25_00, "USD", method=card(VISA))
    charge_back_deposit(reversed_, actor=PSP, reason="Item not received")
    reverse_chargeback(reversed_, actor=PSP, reason="The casino won the dispute")
    leos = _withdraw(leo, 80_00, leos_visa)
    return {"disputed": disputed, "waiting": waiting, "reversed": reversed_, "leos": leos}


def test_finance_finds_the_chargeback_and_who_owes_the_casino(open_console, anna, mia, books):
    disputed, reversed_ = books["disputed"], books["reversed"]
    console = open_console(anna)
    page = console.page
    # when anna opens Chargebacks from the menu
    console.submit(page.get_by_role("link", name="Chargebacks"))
    # then Mia is listed as owing 110.00 EUR, with nothing available and 40.00 held for her withdrawal
    owed = page.get_by_test_id("receivables").locator("tbody tr")
    assert owed.count() == 1
    assert owed.first.inner_text().split("\t") == [f"Mia Rossi #{mia.pk}", "EUR", "110.00 EUR", "0.00 EUR", "40.00 EUR"]
    # and both charged-back deposits, the latest first, with amount, method and state
    rows = page.locator("[data-testid=chargebacks] tbody tr[data-reference]")
    assert [rows.nth(i).get_attribute("data-reference") for i in range(rows.count())] == [
        reversed_.reference,
        disputed.reference,
    ]
    mias = page.locator(f"tr[data-reference='{disputed.reference}']").inner_text()
    assert "Mia Rossi" in mias and "200.00 EUR" in mias and "Visa •••• 4242" in mias and "Charged back" in mias
    assert mias.rstrip().endswith("—")  # not reversed
    leos = page.locator(f"tr[data-reference='{reversed_.reference}']").inner_text()
    assert "Leo Janssen" in leos and "25.00 USD" in leos and "Chargeback reversed" in leos
    console.shot("console-disputes")
    # when she narrows the list to chargebacks still standing
    filters = page.get_by_test_id("dispute-filters")
    filters.get_by_label("Charged back", exact=True).check()
    console.submit(filters.get_by_role("button", name="Filter"))
    # then only Mia's is left
    assert "state=charged_back" in page.url
    rows = page.locator("[data-testid=chargebacks] tbody tr[data-reference]")
    assert rows.count() == 1 and rows.first.get_attribute("data-reference") == disputed.reference
    # and a player filter finds Leo's alone
    console.submit(page.get_by_role("link", name="Reset"))
    filters.get_by_label("Player").fill("leo")
    console.submit(filters.get_by_role("button", name="Filter"))
    rows = page.locator("[data-testid=chargebacks] tbody tr[data-reference]")
    assert rows.count() == 1 and rows.first.get_attribute("data-reference") == reversed_.reference
    assert "Nobody owes the casino." in page.get_by_test_id("receivables").inner_text()


def test_the_player_page_shows_the_restriction_and_the_payment_methods(open_console, anna, mia, books):
    console = open_console(anna)
    page = console.page
    # when anna follows Mia's name from the Chargebacks page
    console.goto("/console/disputes/")
    console.submit(page.get_by_test_id("receivables").get_by_role("link", name="Mia Rossi"))
    # then the header and the balances say that she owes the casino, and what that means
    assert page.get_by_test_id("restricted-badge").inner_text() == "Restricted: owes the casino"
    balances = page.get_by_test_id("balances").locator("tr[data-currency=EUR]").inner_text()
    assert balances.split("\t") == ["EUR", "0.00 EUR", "40.00 EUR", "110.00 EUR"]
    assert (
        "no withdrawals, approvals or play"
        in page.get_by_test_id("balances").get_by_test_id("restriction").inner_text()
    )
    context = page.get_by_test_id("player-context")
    # and her payment methods: the Visa, shared with Leo, brought nothing net (its deposit was charged
    # back) and 120.00 went to it; the bank account brought 50.00 and 40.00 are on their way to it
    methods = context.get_by_test_id("payment-methods")
    visa = methods.locator("tbody tr").nth(0).inner_text()
    assert "Visa •••• 4242" in visa and "also used by 1 other player" in visa and "−120.00 EUR" in visa
    bank = methods.locator("tbody tr").nth(1).inner_text()
    assert "Bank account •••• 3000" in bank and "10.00 EUR" in bank
    assert methods.get_by_test_id("shared").count() == 1
    # and the chargeback is among her last transactions
    assert "Charged back" in context.get_by_test_id("recent-transactions").inner_text()
    console.shot("console-player-restricted")
    # and her waiting withdrawal cannot be approved while she owes: only rejecting is offered
    console.submit(context.get_by_test_id("previous-withdrawals").get_by_role("link", name=books["waiting"].reference))
    assert page.get_by_test_id("form-approve").count() == 0
    assert page.get_by_test_id("form-reject").is_visible()
    assert page.get_by_test_id("decision-note").inner_text().startswith("The player's account is restricted")
    assert "110.00 EUR" in page.get_by_test_id("protection-summary").get_by_test_id("restriction").inner_text()


def test_the_withdrawal_page_shows_the_destination_and_the_closed_loop(open_console, anna, leo, books):
    withdrawal = books["leos"]
    console = open_console(anna)
    page = console.page
    # when anna opens Leo's withdrawal of 80.00 EUR to his Visa
    console.goto(detail_url(withdrawal.pk))
    # then the destination is the Visa, and the risk flags say it is new and shared with another player
    destination = page.get_by_test_id("destination")
    assert destination.get_by_test_id("destination-method").inner_text().split(" · ") == [
        "Visa •••• 4242",
        "Card",
        VISA,
    ]
    flags = page.get_by_test_id("risk-flags").inner_text()
    assert "Shared payment method" in flags and "New payment method" in flags
    # and the closed loop in EUR: the Visa's 100.00 less this 80.00; each payout method may take what it
    # brought in plus the 30.00 beyond every method's net deposits (the e-wallet's, which takes none)
    loop = destination.get_by_test_id("closed-loop")
    assert "Closed loop in EUR" in loop.locator("caption").inner_text()
    figures = [row.split("\t") for row in loop.locator("tbody tr").all_inner_texts()]
    assert figures == [
        ["Visa •••• 4242 ←", "20.00 EUR", "50.00 EUR"],
        ["Bank account •••• 4300", "40.00 EUR", "70.00 EUR"],
        ["E-wallet •••• 1234", "30.00 EUR", "cannot receive payouts"],
    ]
    assert page.get_by_test_id("balances").inner_text() == "available 90.00 EUR · held 80.00 EUR"
    page.get_by_test_id("form-approve").get_by_role("textbox").fill("Card holder name matches; shared card checked")
    console.shot("console-withdrawal-destination")
