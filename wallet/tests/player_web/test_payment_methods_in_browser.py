"""Choosing a payment method in a real browser: at the PSP's checkout, and as a withdrawal's destination."""

import pytest

from payouts.sandbox import engine
from players.tests.factories import PlayerFactory
from wallet.models import PaymentMethod, Withdrawal
from wallet.tests.factories import bank_account, card, funded_method

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def player(casino):
    """A player who deposited 50.00 EUR by card and 30.00 EUR from a bank account."""
    player = PlayerFactory(tenant=casino)
    funded_method(player, 50_00, card())
    funded_method(player, 30_00, bank_account())
    return player


def method_rows(page) -> list[str]:
    return [row.inner_text() for row in page.query_selector_all("#method-rows tr")]


def test_the_player_pays_with_an_e_wallet_and_sees_it_among_their_methods(wallet_page, player):
    page = wallet_page
    page.wait_for_selector("#method-rows tr[data-kind=card]")
    # when the player deposits 20.00 and chooses an e-wallet at the PSP's checkout
    page.fill("#deposit-form input[name=amount]", "20.00")
    page.click("[data-testid=deposit-button]")
    page.wait_for_url("**/checkout/**")
    page.check("[data-testid=method-ewallet]")
    page.fill("[data-testid=fingerprint]", "wallet-55512")
    page.click("[data-testid=pay]")
    page.wait_for_selector("[data-testid=status]")
    assert "E-wallet •••• 5512" in page.inner_text("[data-testid=status]")
    assert engine.deliver_due() == 1
    page.click("text=Back to the casino")
    # then the e-wallet is listed with what it brought in, and offered as a destination
    page.wait_for_selector("#method-rows tr[data-kind=ewallet]")
    ewallet = PaymentMethod.objects.get(player=player, kind="ewallet")
    row = page.inner_text(f"#method-rows tr[data-id='{ewallet.pk}']")
    assert "E-wallet •••• 5512" in row and "20.00 EUR" in row
    options = page.eval_on_selector_all("[data-testid=withdraw-method] option", "os => os.map(o => o.textContent)")
    assert "E-wallet •••• 5512" in options


def test_the_player_chooses_where_a_withdrawal_goes_and_the_closed_loop_explains_itself(wallet_page, player):
    page = wallet_page
    page.wait_for_selector("#destination:not([hidden])")
    visa = PaymentMethod.objects.get(player=player, kind="card")
    # when the player asks for 60.00 to the card, which brought in 50.00
    page.select_option("[data-testid=withdraw-method]", str(visa.pk))
    page.fill("#withdraw-form input[name=amount]", "60.00")
    page.click("[data-testid=withdraw-button]")
    # then the page says what each method can take, and nothing was held
    page.wait_for_selector("[data-testid=notice][data-kind=error]")
    notice = page.inner_text("[data-testid=notice]")
    assert "Visa •••• 4242: 50.00 EUR" in notice and "Bank account •••• 3000: 30.00 EUR" in notice
    assert not Withdrawal.objects.filter(player=player).exists()
    # when the player asks for 50.00 to the card, then it is requested with the card as its destination
    page.select_option("[data-testid=withdraw-method]", str(visa.pk))
    page.fill("#withdraw-form input[name=amount]", "50.00")
    page.click("[data-testid=withdraw-button]")
    page.wait_for_selector("[data-testid=notice][data-kind=ok]")
    (withdrawal,) = Withdrawal.objects.filter(player=player)
    assert (withdrawal.amount, withdrawal.payment_method_id) == (50_00, visa.pk)
