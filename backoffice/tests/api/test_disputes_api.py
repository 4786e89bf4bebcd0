"""GET admin/chargebacks/ and admin/receivables/: the Chargebacks page as data, the operator's casino
only, the same filters, bad filters refused with VALIDATION_ERROR."""

import pytest

from players.tests.factories import PlayerFactory
from wallet.services import charge_back_deposit, charge_back_deposit_again, request_withdrawal, reverse_chargeback
from wallet.tests.api.helpers import assert_problem, assert_validation_error, client_for
from wallet.tests.builders import PSP, player_of
from wallet.tests.factories import card, deposit_with

from .helpers import ADMIN_API, as_operator, body_of

pytestmark = pytest.mark.django_db

CHARGEBACKS, RECEIVABLES = f"{ADMIN_API}/chargebacks/", f"{ADMIN_API}/receivables/"


@pytest.fixture
def books(player, tenant, other_tenant):
    """The player's 100.00 charged back while 70.00 of it was held (70.00 owed); another player's
    20.00 USD charged back and reversed; a third's 15.00 charged back again after its reversal; and
    another casino's chargeback."""
    owing = deposit_with(player, 100_00, method=card())
    request_withdrawal(
        player=player, amount=70_00, currency="EUR", actor=player_of(player), payment_method=owing.payment_method
    )
    charge_back_deposit(owing, actor=PSP)
    reversed_ = deposit_with(PlayerFactory(tenant=tenant), 20_00, "USD", method=card())
    charge_back_deposit(reversed_, actor=PSP)
    reverse_chargeback(reversed_, actor=PSP)
    again = deposit_with(PlayerFactory(tenant=tenant), 15_00, method=card())
    charge_back_deposit(again, actor=PSP)
    reverse_chargeback(again, actor=PSP)
    charge_back_deposit_again(again, actor=PSP)
    foreign = deposit_with(PlayerFactory(tenant=other_tenant), 5_00, method=card())
    charge_back_deposit(foreign, actor=PSP)
    return {"owing": owing, "reversed": reversed_, "again": again, "foreign": foreign}


def references(body) -> set[str]:
    return {row["reference"] for row in body["results"]}


def test_the_casinos_chargebacks_with_each_step(viewer, books):
    body = body_of(as_operator(viewer).get(CHARGEBACKS))
    assert (body["count"], body["pages"]) == (3, 1)
    assert references(body) == {books[name].reference for name in ("owing", "reversed", "again")}
    again = next(row for row in body["results"] if row["reference"] == books["again"].reference)
    assert (again["amount"], again["currency"], again["state"], again["payment_method"]["label"]) == (
        "15.00",
        "EUR",
        "charged_back_again",
        "Visa •••• 4242",
    )
    assert again["charged_back_at"] <= again["reversed_at"] <= again["charged_back_again_at"]
    owing = next(row for row in body["results"] if row["reference"] == books["owing"].reference)
    assert (owing["state"], owing["reversed_at"], owing["charged_back_again_at"]) == ("charged_back", None, None)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"state": "charged_back_again"}, {"again"}),
        ({"state": ["charged_back", "chargeback_reversed"]}, {"owing", "reversed"}),
        ({"currency": "USD"}, {"reversed"}),
        ({"disputed_until": "2020-01-01"}, set()),
        ({"page_size": 1, "page": 9}, set()),
    ],
)
def test_the_filters_narrow_the_list(viewer, books, query, expected):
    body = body_of(as_operator(viewer).get(CHARGEBACKS, query))
    assert references(body) == {books[name].reference for name in expected}


def test_a_player_filter_finds_their_chargebacks(viewer, player, books):
    body = body_of(as_operator(viewer).get(CHARGEBACKS, {"player": str(player.pk)}))
    assert references(body) == {books["owing"].reference}


def test_who_owes_the_casino(viewer, player, books):
    body = body_of(as_operator(viewer).get(RECEIVABLES))
    assert body["count"] == 1
    assert body["results"] == [
        {
            "player": {"id": player.pk, "username": player.user.username, "display_name": player.display_name},
            "currency": "EUR",
            "receivable": "70.00",
            "available": "0.00",
            "held": "70.00",
        }
    ]
    assert body_of(as_operator(viewer).get(RECEIVABLES, {"currency": "USD"}))["results"] == []


def test_another_casinos_chargebacks_are_never_listed(viewer, books, other_tenant):
    from wallet.tests.staff import VIEWER, operator_user

    assert books["foreign"].reference not in references(body_of(as_operator(viewer).get(CHARGEBACKS)))
    theirs = body_of(as_operator(operator_user(other_tenant, VIEWER)).get(CHARGEBACKS))
    assert references(theirs) == {books["foreign"].reference}
    assert body_of(as_operator(operator_user(other_tenant, VIEWER)).get(RECEIVABLES))["results"] == []


def test_platform_staff_read_every_casinos(superuser, books):
    assert references(body_of(as_operator(superuser).get(CHARGEBACKS))) == {d.reference for d in books.values()}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"state": "completed"}, "state"),
        ({"currency": "euro"}, "currency"),
        ({"disputed_from": "yesterday"}, "disputed_from"),
        ({"disputed_from": "2026-02-01", "disputed_until": "2026-01-01"}, "disputed_until"),
        ({"page": 0}, "page"),
        ({"page_size": 201}, "page_size"),
        ({"player": "x" * 151}, "player"),
    ],
)
def test_bad_filters_are_400_naming_the_field(viewer, query, field):
    assert_validation_error(as_operator(viewer).get(CHARGEBACKS, query), field)


def test_players_cannot_read_them(player):
    for url in (CHARGEBACKS, RECEIVABLES):
        assert_problem(client_for(player).get(url), 401, "AUTHENTICATION_REQUIRED")


def test_a_deposit_is_found_by_any_of_its_dispute_steps_and_sorted_by_the_latest(viewer, tenant, books):
    from reconciliation.tests.helpers import allow_rewriting_history, sql

    # given the deposit charged back again today had its first chargeback and reversal in March
    allow_rewriting_history("wallet_deposittransition")
    sql(
        "UPDATE wallet_deposittransition SET created_at = '2026-03-02T12:00:00+00:00' "
        "WHERE deposit_id = %s AND to_state IN ('charged_back', 'chargeback_reversed')",
        [books["again"].pk],
    )
    client = as_operator(viewer)
    # then a day in March finds it by its first steps, and today's days by its second chargeback
    march = body_of(client.get(CHARGEBACKS, {"disputed_from": "2026-03-02", "disputed_until": "2026-03-02"}))
    assert references(march) == {books["again"].reference}
    today = body_of(client.get(CHARGEBACKS, {"disputed_from": "2026-04-01"}))
    assert books["again"].reference in references(today)
    # and the whole list has it by its latest step (today), not below the others by its March chargeback
    body = body_of(client.get(CHARGEBACKS))
    assert body["results"][0]["reference"] == books["again"].reference
