"""GET transactions/: newest first, filters, keyset cursors that stay stable while rows arrive."""

import base64
from datetime import UTC, datetime, timedelta

import pytest

from wallet.models import Deposit, Withdrawal
from wallet.services import cancel_withdrawal
from wallet.tests.builders import deposit_in_state, player_of, withdrawal_in_state
from wallet.tests.factories import fund

from .helpers import TRANSACTIONS, assert_validation_error, deposit_request, withdrawal_request

pytestmark = pytest.mark.django_db

DAY_ONE = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ITEM_KEYS = {"id", "type", "reference", "amount", "currency", "state", "created_at", "updated_at", "cancelable"}


@pytest.fixture
def history(player) -> list:
    """Seven transactions of the player, oldest first, in several states; returns their ids."""
    fund(player, 100_00)
    made = [
        Deposit.objects.get(player=player),  # completed 100.00
        withdrawal_in_state("requested", player=player, amount=10_00, funded=False),
        deposit_in_state("created", player=player, amount=20_00),
        withdrawal_in_state("canceled", player=player, amount=5_00, funded=False),
        deposit_in_state("failed", player=player, amount=7_00),
        withdrawal_in_state("approved", player=player, amount=15_00, funded=False),
        deposit_in_state("pending_provider", player=player, amount=3_00),
    ]
    return [tx.pk for tx in made]


def _date(history: list) -> None:
    """Put the i-th transaction on day i (2026-01-01 + i days, 12:00 UTC)."""
    for day, tx_id in enumerate(history):
        for model in (Deposit, Withdrawal):
            model.objects.filter(pk=tx_id).update(created_at=DAY_ONE + timedelta(days=day))


def _ids(page) -> list[str]:
    return [row["id"] for row in page["results"]]


def _walk(api, params: dict, *, between_pages=None) -> list[list[str]]:
    """Follow `next` links to the end; returns the ids of each page."""
    response = api.get(TRANSACTIONS, params)
    pages = []
    while True:
        assert response.status_code == 200, response.content
        page = response.json()
        pages.append(_ids(page))
        if page["next"] is None:
            return pages
        if between_pages:
            between_pages(len(pages))
        response = api.get(page["next"])


def _strs(ids) -> list[str]:
    return [str(tx_id) for tx_id in ids]


def test_history_is_newest_first_across_deposits_and_withdrawals(api, history):
    page = api.get(TRANSACTIONS).json()
    assert _ids(page) == _strs(reversed(history))
    assert page["next"] is None
    assert [row["type"] for row in page["results"]] == ["deposit", "withdrawal"] * 3 + ["deposit"]
    assert [row["amount"] for row in page["results"]] == ["3.00", "15.00", "7.00", "5.00", "20.00", "10.00", "100.00"]
    assert all(set(row) == ITEM_KEYS for row in page["results"])
    assert all(row["created_at"].endswith("Z") for row in page["results"])


@pytest.mark.parametrize(
    ("params", "positions"),
    [
        ({"type": "deposit"}, [6, 4, 2, 0]),
        ({"type": "withdrawal"}, [5, 3, 1]),
        ({"state": "requested"}, [1]),
        ({"state": "completed"}, [0]),
        ({"state": "canceled"}, [3]),
        ({"state": "failed"}, [4]),
        ({"type": "deposit", "state": "requested"}, []),
        ({"type": "withdrawal", "state": "approved"}, [5]),
    ],
)
def test_filters_by_type_and_state(api, history, params, positions):
    assert _ids(api.get(TRANSACTIONS, params).json()) == [str(history[i]) for i in positions]


@pytest.mark.parametrize(
    ("params", "positions"),
    [
        ({"created_after": "2026-01-03T12:00:00Z"}, [6, 5, 4, 3, 2]),
        ({"created_after": "2026-01-03T13:00:00+01:00"}, [6, 5, 4, 3, 2]),
        ({"created_after": "2026-01-03T12:00:00.000001Z"}, [6, 5, 4, 3]),
        ({"created_before": "2026-01-03T12:00:00Z"}, [1, 0]),
        ({"created_after": "2026-01-02T00:00:00Z", "created_before": "2026-01-05T00:00:00Z"}, [3, 2, 1]),
        ({"created_after": "2026-01-02T00:00:00Z", "created_before": "2026-01-05T00:00:00Z", "type": "deposit"}, [2]),
        ({"created_after": "2027-01-01T00:00:00Z"}, []),
    ],
)
def test_filters_by_creation_time_after_inclusive_before_exclusive(api, history, params, positions):
    _date(history)
    assert _ids(api.get(TRANSACTIONS, params).json()) == [str(history[i]) for i in positions]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "refund"}, "type"),
        ({"state": "bogus"}, "state"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2026-13-01T00:00:00Z"}, "created_before"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "abc"}, "limit"),
    ],
)
def test_invalid_filters_are_400_naming_the_parameter(api, params, field):
    assert_validation_error(api.get(TRANSACTIONS, params), field)


def test_walking_pages_of_two_returns_every_transaction_once_in_order(api, history):
    pages = _walk(api, {"limit": 2})
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    assert [tx for page in pages for tx in page] == _strs(reversed(history))


def test_a_walk_keeps_its_filters(api, history):
    pages = _walk(api, {"limit": 1, "type": "withdrawal"})
    assert [tx for page in pages for tx in page] == _strs([history[5], history[3], history[1]])


def test_transactions_added_and_changed_during_a_walk_do_not_disturb_it(api, player, history):
    # given a walk in pages of two, and between pages the player keeps paying and canceling
    requested = history[1]

    def meanwhile(pages_read):
        assert deposit_request(api, "1.00").status_code == 201
        assert withdrawal_request(api, "1.00").status_code == 201
        if pages_read == 2:
            cancel_withdrawal(requested, actor=player_of(player))

    # when the walk completes
    pages = _walk(api, {"limit": 2}, between_pages=meanwhile)
    walked = [tx for page in pages for tx in page]
    # then it returned each original transaction exactly once, in order, and none of the newer ones
    assert walked == _strs(reversed(history))
    assert len(set(walked)) == len(walked)
    # and a fresh walk sees everything, the new ones first
    fresh = [tx for page in _walk(api, {"limit": 2}) for tx in page]
    assert len(fresh) == len(set(fresh)) == len(history) + 6
    assert fresh[6:] == _strs(reversed(history))


def test_transactions_created_at_the_same_instant_are_each_returned_once(api, history):
    # given every transaction stamped with the very same time
    for model in (Deposit, Withdrawal):
        model.objects.filter(pk__in=history).update(created_at=DAY_ONE)
    # when walked one by one, then each comes exactly once, ordered by id
    walked = [tx for page in _walk(api, {"limit": 1}) for tx in page]
    assert walked == _strs(sorted(history, reverse=True))


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        "%%%",
        "é",
        _b64("no separator"),
        _b64("2026-01-01T00:00:00+00:00|not-a-uuid"),
        _b64("2026-01-01T00:00:00|00000000-0000-0000-0000-000000000000"),
        _b64("yesterday|00000000-0000-0000-0000-000000000000"),
        _b64("2026-01-01T00:00:00+00:00|00000000-0000-0000-0000-000000000000|extra"),
    ],
    ids=["word", "punctuation", "percent", "non-ascii", "no-separator", "bad-uuid", "naive-time", "bad-time", "extra"],
)
def test_a_cursor_the_api_did_not_issue_is_400(api, history, cursor):
    assert_validation_error(api.get(TRANSACTIONS, {"cursor": cursor}), "cursor")
