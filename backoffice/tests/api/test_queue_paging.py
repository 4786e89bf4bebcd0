"""The review queue's ordering, pagination and SLA clock."""

import time

import pytest

from wallet.tests.api.helpers import assert_validation_error

from .helpers import QUEUE, as_operator, body_of
from .queue_book import make_book, names

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(tenant):
    return make_book(tenant)


@pytest.fixture
def queue(finance):
    client = as_operator(finance)
    return lambda **query: client.get(QUEUE, query)


@pytest.mark.parametrize(
    ("ordering", "currency", "expected"),
    [
        ("created_at", "", ["w1", "w2", "w3", "w4", "w5"]),
        ("-created_at", "", ["w5", "w4", "w3", "w2", "w1"]),
        ("amount", "EUR", ["w1", "w2", "w4"]),
        ("-amount", "EUR", ["w4", "w2", "w1"]),
    ],
)
def test_ordering(queue, book, ordering, currency, expected):
    query = {"ordering": ordering, **({"currency": currency} if currency else {})}
    assert names(book, body_of(queue(**query))) == expected


@pytest.mark.parametrize("ordering", ["state", "-id", "random", "amount,created_at"])
def test_an_unknown_ordering_is_refused(queue, ordering):
    assert_validation_error(queue(ordering=ordering), "ordering")


def test_pages(queue, book):
    pages = [body_of(queue(page_size=2, page=n)) for n in (1, 2, 3)]
    assert [names(book, page) for page in pages] == [["w1", "w2"], ["w3", "w4"], ["w5"]]
    assert {(page["count"], page["pages"]) for page in pages} == {(5, 3)}
    assert [page["page"] for page in pages] == [1, 2, 3]
    assert all(page["counts_by_state"] == {"requested": 3, "approved": 1, "rejected": 1} for page in pages)


def test_a_page_beyond_the_end_is_empty_not_an_error(queue, book):
    response = queue(page_size=2, page=4)
    assert response.status_code == 200
    body = body_of(response)
    assert (body["results"], body["count"], body["page"], body["pages"]) == ([], 5, 4, 3)
    assert body_of(queue(page=100_000))["results"] == []


def test_an_empty_queue_has_one_empty_page(queue):
    body = body_of(queue())
    assert (body["results"], body["count"], body["page"], body["pages"], body["counts_by_state"]) == ([], 0, 1, 1, {})


@pytest.mark.parametrize(
    ("name", "value"),
    [("page", "0"), ("page", "-1"), ("page", "x"), ("page", "100001"), ("page_size", "0"), ("page_size", "201")],
)
def test_out_of_range_paging_is_refused(queue, name, value):
    assert_validation_error(queue(**{name: value}), name)


def test_the_largest_page_size_is_allowed(queue, book):
    assert len(body_of(queue(page_size=200))["results"]) == 5


def test_age_seconds_grows_with_time(queue, book):
    first = {row["id"]: row["age_seconds"] for row in body_of(queue())["results"]}
    assert all(0 <= age < 60 for age in first.values())
    time.sleep(1.1)
    later = {row["id"]: row["age_seconds"] for row in body_of(queue())["results"]}
    assert all(later[pk] >= first[pk] + 1 for pk in first)
