"""The review queue's filters: state, player, currency, amounts, time, four-eyes; counts per state."""

import pytest

from wallet.tests.api.helpers import assert_validation_error
from wallet.tests.builders import set_limits, withdrawal_in_state

from .helpers import QUEUE, as_operator, body_of, decide
from .queue_book import make_book, names

pytestmark = pytest.mark.django_db

ALL_COUNTS = {"requested": 3, "approved": 1, "rejected": 1}


@pytest.fixture
def book(tenant):
    return make_book(tenant)


@pytest.fixture
def queue(viewer):
    client = as_operator(viewer)
    return lambda **query: client.get(QUEUE, query)


def _listed(queue, book, **query) -> list[str]:
    response = queue(**query)
    assert response.status_code == 200, response.content
    return names(book, body_of(response))


def test_without_filters_everything_is_listed_oldest_first_with_counts(queue, book):
    body = body_of(queue())
    assert names(book, body) == ["w1", "w2", "w3", "w4", "w5"]
    assert (body["count"], body["page"], body["pages"], body["counts_by_state"]) == (5, 1, 1, ALL_COUNTS)
    row = body["results"][0]
    assert row["player"] == {"id": book["alice"].pk, "username": "queue-alice", "display_name": "Alice Andersson"}
    assert (row["amount"], row["currency"], row["reference"]) == ("10.00", "EUR", book["w1"].reference)
    assert body["results"][4]["amount"] == "5000"  # JPY has no minor digits


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("requested", ["w1", "w3", "w5"]),
        ("approved,rejected", ["w2", "w4"]),
        (" requested , approved ", ["w1", "w2", "w3", "w5"]),
        ("paid", []),
    ],
)
def test_state_filters_the_rows_but_not_the_counts(queue, book, state, expected):
    body = body_of(queue(state=state))
    assert names(book, body) == expected
    assert body["count"] == len(expected)
    assert body["counts_by_state"] == ALL_COUNTS


@pytest.mark.parametrize("state", ["bogus", "requested,bogus", "REQUESTED", "pending"])
def test_an_unknown_state_is_refused(queue, state):
    assert_validation_error(queue(state=state), "state")


def test_player_by_id_username_or_name(queue, book):
    assert _listed(queue, book, player=str(book["alice"].pk)) == ["w1", "w2"]
    assert _listed(queue, book, player="QUEUE-BOB") == ["w3", "w4"]
    assert _listed(queue, book, player="Chen") == ["w5"]
    assert _listed(queue, book, player="  andersson ") == ["w1", "w2"]
    body = body_of(queue(player="nobody-at-all"))
    assert (body["results"], body["count"], body["pages"], body["counts_by_state"]) == ([], 0, 1, {})
    # counts follow the other filters
    assert body_of(queue(player=str(book["alice"].pk)))["counts_by_state"] == {"requested": 1, "approved": 1}


def test_currency(queue, book):
    assert _listed(queue, book, currency="USD") == ["w3"]
    assert _listed(queue, book, currency="JPY") == ["w5"]
    assert _listed(queue, book, currency="EUR") == ["w1", "w2", "w4"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"min_amount": "30.00"}, ["w2", "w4"]),
        ({"max_amount": "50"}, ["w1", "w2"]),
        ({"min_amount": "20", "max_amount": "60.00"}, ["w2"]),
        ({"min_amount": "10.00", "max_amount": "10.00"}, ["w1"]),
        ({"min_amount": "100.01"}, []),
    ],
)
def test_amount_bounds_are_decimal_strings_in_the_currency(queue, book, query, expected):
    assert _listed(queue, book, currency="EUR", **query) == expected


def test_amount_bounds_follow_the_currencys_decimals(queue, book):
    assert _listed(queue, book, currency="JPY", min_amount="5000") == ["w5"]
    assert_validation_error(queue(currency="JPY", min_amount="4999.5"), "min_amount")


@pytest.mark.parametrize("name", ["min_amount", "max_amount"])
def test_an_amount_bound_without_a_currency_is_refused(queue, name):
    assert_validation_error(queue(**{name: "10.00"}), name)


@pytest.mark.parametrize("text", ["abc", "1.234", "-5.00", "1e3", "5,00", "0", " 5", "0x10"])
def test_a_malformed_amount_bound_is_refused(queue, text):
    assert_validation_error(queue(currency="EUR", min_amount=text), "min_amount")
    assert_validation_error(queue(currency="EUR", max_amount=text), "max_amount")


def test_empty_parameters_mean_no_filter_as_from_an_html_form(queue, book):
    empty = dict.fromkeys(("state", "player", "currency", "min_amount", "max_amount", "created_after"), "")
    assert _listed(queue, book, **empty) == ["w1", "w2", "w3", "w4", "w5"]


def test_an_unknown_currency_with_amounts_is_refused(queue):
    assert_validation_error(queue(currency="XXX", min_amount="1"), "min_amount")
    assert_validation_error(queue(currency="EURO"), "currency")


def test_created_after_and_before(queue, book):
    t1, t2 = book["t1"].isoformat(), book["t2"].isoformat()
    assert _listed(queue, book, created_after=t1) == ["w2", "w3", "w4", "w5"]
    assert _listed(queue, book, created_before=t1) == ["w1"]
    assert _listed(queue, book, created_after=t1, created_before=t2) == ["w2", "w3"]
    body = body_of(queue(created_after=t2))
    assert body["counts_by_state"] == {"requested": 1, "rejected": 1}


@pytest.mark.parametrize("name", ["created_after", "created_before"])
@pytest.mark.parametrize("text", ["yesterday", "2024-13-01T00:00:00Z", "1700000000"])
def test_a_malformed_time_is_refused(queue, name, text):
    assert_validation_error(queue(**{name: text}), name)


def test_awaiting_second_approval(tenant, finance, queue, player):
    # given a large withdrawal with one approval of two, and a small one with none
    set_limits(tenant, four_eyes_amount=100_00)
    large = withdrawal_in_state("requested", player=player, amount=100_00)
    small = withdrawal_in_state("requested", player=player, amount=10_00)
    decide(as_operator(finance), large.pk, "approve")
    waiting = body_of(queue(awaiting_second_approval="true"))
    assert [row["id"] for row in waiting["results"]] == [str(large.pk)]
    assert waiting["counts_by_state"] == {"requested": 1}
    assert [row["id"] for row in body_of(queue(awaiting_second_approval="false"))["results"]] == [str(small.pk)]
    assert_validation_error(queue(awaiting_second_approval="maybe"), "awaiting_second_approval")
