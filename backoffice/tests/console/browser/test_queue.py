"""Signing in and working the review queue in a real browser."""

import pytest

from wallet.tests.builders import withdrawal_in_state

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_signs_in_and_filters_the_queue(open_console, anna, mia, leo):
    # given requested and approved withdrawals of two players
    mias = [withdrawal_in_state("requested", player=mia, amount=amount) for amount in (40_00, 125_50)]
    leos = withdrawal_in_state("requested", player=leo, amount=60_00)
    mias_approved = withdrawal_in_state("approved", player=mia, amount=80_00)
    console = open_console()
    console.goto("/console/")
    assert console.page.url.endswith("/console/login/?next=/console/withdrawals/")
    console.shot("console-login")
    # when the operator signs in with a wrong password, then the form says so
    console.sign_in(anna.username, "wrong-password")
    assert console.page.get_by_role("alert").inner_text() == (
        "Your username and password did not match. Please try again."
    )
    # when they sign in with the right one, then the queue shows the requested withdrawals, oldest first
    console.sign_in(anna.username)
    assert console.page.get_by_test_id("who").inner_text() == "anna.finance · Finance · Golden Palace"
    assert console.queue_references() == [mias[0].reference, mias[1].reference, leos.reference]
    counts = console.page.get_by_test_id("state-counts")
    assert "Requested 3" in counts.inner_text() and "Approved 1" in counts.inner_text()
    console.shot("console-queue")
    # when they filter by player, then only that player's requested withdrawals are left
    filters = console.page.get_by_test_id("filters")
    filters.get_by_label("Player").fill("mia")
    console.submit(filters.get_by_role("button", name="Filter"))
    assert console.queue_references() == [mias[0].reference, mias[1].reference, mias_approved.reference]
    filters = console.page.get_by_test_id("filters")
    filters.get_by_label("Requested").check()
    console.submit(filters.get_by_role("button", name="Filter"))
    assert console.queue_references() == [mias[0].reference, mias[1].reference]
    assert console.page.get_by_text("2 withdrawals").is_visible()
    # when they sort by amount, largest first, then the order follows
    console.submit(console.page.get_by_role("link", name="Amount", exact=True))
    assert console.queue_references() == [mias[1].reference, mias[0].reference]
    # when they choose approved in the filter, then the approved one is shown
    filters = console.page.get_by_test_id("filters")
    filters.get_by_label("Requested").uncheck()
    filters.get_by_label("Approved").check()
    console.submit(filters.get_by_role("button", name="Filter"))
    assert console.queue_references() == [mias_approved.reference]
    # and the counts badges open a state's list
    console.submit(console.page.get_by_test_id("state-counts").get_by_role("link", name="Requested"))
    assert console.queue_references() == [mias[0].reference, mias[1].reference, leos.reference]
