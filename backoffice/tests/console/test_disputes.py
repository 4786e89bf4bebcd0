"""The console's chargebacks and receivables page: what the PSP took back and who owes the casino,
filtered by state, currency, player and day; only the operator's own casino."""

import pytest

from players.tests.factories import PlayerFactory
from wallet.services import charge_back_deposit, charge_back_deposit_again, request_withdrawal, reverse_chargeback
from wallet.tests.builders import PSP, player_of
from wallet.tests.factories import card, deposit_with

from .helpers import text_of

pytestmark = pytest.mark.django_db

PAGE = "/console/disputes/"


@pytest.fixture
def disputes(player, tenant, other_tenant):
    """The player's deposit charged back while 70.00 of it was held (70.00 owed); another player's
    deposit charged back and reversed; and another casino's chargeback."""
    owing = deposit_with(player, 100_00, method=card())
    request_withdrawal(
        player=player, amount=70_00, currency="EUR", actor=player_of(player), payment_method=owing.payment_method
    )
    charge_back_deposit(owing, actor=PSP)
    winner = PlayerFactory(tenant=tenant)
    reversed_ = deposit_with(winner, 20_00, "USD", method=card())
    charge_back_deposit(reversed_, actor=PSP)
    reverse_chargeback(reversed_, actor=PSP)
    foreign = deposit_with(PlayerFactory(tenant=other_tenant), 5_00, method=card())
    charge_back_deposit(foreign, actor=PSP)
    return owing, reversed_, foreign


def test_the_page_lists_the_casinos_chargebacks_and_who_owes(console, viewer, player, disputes):
    owing, reversed_, foreign = disputes
    response = console(viewer).get(PAGE)
    assert response.status_code == 200
    html, text = response.content.decode(), text_of(response)
    assert f'data-reference="{owing.reference}"' in html and f'data-reference="{reversed_.reference}"' in html
    assert foreign.reference not in html
    assert "Charged back" in text and "Chargeback reversed" in text
    # and the player who owes 70.00 EUR is listed, the reversed one (who owes nothing) is not
    receivables = html.split('data-testid="receivables"')[1].split("</section>")[0]
    assert f"#{player.pk}" in receivables and "70.00 EUR" in receivables
    assert reversed_.player.display_name not in receivables


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("state=chargeback_reversed", "reversed", "owing"),
        ("state=charged_back", "owing", "reversed"),
        ("currency=USD", "reversed", "owing"),
        ("player={owing_player}", "owing", "reversed"),
    ],
)
def test_the_filters_narrow_the_list(console, viewer, disputes, query, shown, hidden):
    owing, reversed_, _ = disputes
    by_name = {"owing": owing, "reversed": reversed_}
    html = console(viewer).get(f"{PAGE}?{query.format(owing_player=owing.player_id)}").content.decode()
    chargebacks = html.split('data-testid="chargebacks"')[1]
    assert f'data-reference="{by_name[shown].reference}"' in chargebacks
    assert f'data-reference="{by_name[hidden].reference}"' not in chargebacks


def test_a_day_filter_before_any_chargeback_finds_none(console, viewer, disputes):
    html = console(viewer).get(f"{PAGE}?day_until=2020-01-01").content.decode()
    assert "No chargeback matches." in text_of(console(viewer).get(f"{PAGE}?day_until=2020-01-01"))
    assert 'data-reference="' not in html.split('data-testid="chargebacks"')[1]


def test_a_second_chargeback_is_listed_with_each_step_and_filtered_by_its_state(console, viewer, tenant, disputes):
    owing, reversed_, _ = disputes
    lost = deposit_with(PlayerFactory(tenant=tenant), 15_00, method=card())
    charge_back_deposit(lost, actor=PSP)
    reverse_chargeback(lost, actor=PSP)
    charge_back_deposit_again(lost, actor=PSP)
    # the whole list shows it charged back, reversed and charged back again, each with its time
    html = console(viewer).get(PAGE).content.decode()
    row = html.split(f'data-reference="{lost.reference}"')[1].split("</tr>")[0]
    assert "Charged back again" in row and row.count("<td>") >= 7 and "—" not in row.split("</span>")[-1]
    # and the state filter finds it alone
    only = (
        console(viewer).get(f"{PAGE}?state=charged_back_again").content.decode().split('data-testid="chargebacks"')[1]
    )
    assert f'data-reference="{lost.reference}"' in only
    assert owing.reference not in only and reversed_.reference not in only
    # in Turkish too
    turkish = console(viewer).get(PAGE, HTTP_ACCEPT_LANGUAGE="tr").content.decode()
    assert "Yeniden ters ibraz edildi" in turkish
