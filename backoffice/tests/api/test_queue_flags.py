"""Risk flags in the review queue: on every withdrawal the operator API shows, and as a filter."""

import pytest

from players.tests.factories import PlayerFactory
from wallet.tests.api.helpers import assert_validation_error
from wallet.tests.builders import set_limits, withdrawal_in_state

from .helpers import QUEUE, as_operator, body_of, decide, detail_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged(tenant):
    """Alice's first and second withdrawal, and Bob's first, which is large (two approvals from 100.00)."""
    set_limits(tenant, four_eyes_amount=100_00)
    alice, bob = PlayerFactory(tenant=tenant), PlayerFactory(tenant=tenant)
    first = withdrawal_in_state("requested", player=alice, amount=10_00)
    second = withdrawal_in_state("requested", player=alice, amount=10_00)
    large = withdrawal_in_state("requested", player=bob, amount=150_00)
    return {"first": first, "second": second, "large": large}


def _listed(client, flagged, **query) -> list[str]:
    response = client.get(QUEUE, query)
    assert response.status_code == 200, response.content
    by_id = {str(w.pk): name for name, w in flagged.items()}
    return [by_id[row["id"]] for row in body_of(response)["results"]]


def test_the_flags_computed_at_the_request_are_what_the_queue_shows(viewer, flagged):
    assert "first_withdrawal" in flagged["first"].risk_flags
    assert "first_withdrawal" not in flagged["second"].risk_flags
    assert {"first_withdrawal", "large"} <= set(flagged["large"].risk_flags)
    rows = body_of(as_operator(viewer).get(QUEUE))["results"]
    assert {row["id"]: row["risk_flags"] for row in rows} == {str(w.pk): w.risk_flags for w in flagged.values()}


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("large", ["large"]),
        ("first_withdrawal", ["first", "large"]),
        ("large,first_withdrawal", ["first", "large"]),  # any of them
        (" large , velocity ", ["large"]),
        ("velocity", []),
    ],
)
def test_the_queue_filters_by_flag(viewer, flagged, flag, expected):
    assert _listed(as_operator(viewer), flagged, flag=flag) == expected


def test_the_state_counts_follow_the_flag_filter(viewer, flagged):
    body = body_of(as_operator(viewer).get(QUEUE, {"flag": "large"}))
    assert body["counts_by_state"] == {"requested": 1}


@pytest.mark.parametrize("flag", ["bogus", "large,bogus", "LARGE"])
def test_an_unknown_flag_is_refused(viewer, flag):
    assert_validation_error(as_operator(viewer).get(QUEUE, {"flag": flag}), "flag")


def test_decisions_and_the_withdrawal_page_carry_the_flags(finance, flagged):
    client = as_operator(finance)
    decided = body_of(decide(client, flagged["first"].pk, "reject"))
    assert decided["risk_flags"] == flagged["first"].risk_flags
    snapshot = body_of(client.get(detail_url(flagged["large"].pk)))
    assert snapshot["transaction"]["risk_flags"] == flagged["large"].risk_flags
