"""The four-eyes rule in a real browser: large withdrawals need two different finance operators."""

import pytest

from wallet.tests.builders import set_limits, withdrawal_in_state

from ..helpers import approvers_of, state_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOUR_EYES = "Four-eyes rule: another operator must do this (you requested or already approved it)."


def test_a_large_withdrawal_needs_a_second_approver(open_console, casino, anna, burak, mia, leo):
    # given two approvals from 500.00 EUR, a withdrawal of 750.00 EUR and a small one
    set_limits(casino, four_eyes_amount=500_00)
    large = withdrawal_in_state("requested", player=mia, amount=750_00)
    small = withdrawal_in_state("requested", player=leo, amount=499_99)
    annas = open_console(anna)
    # when anna approves the large one, then it stays requested, awaiting a second approval
    annas.decide(large.reference, "approve", "Large win, verified with the game provider")
    assert annas.messages() == [f"Approve: done for {large.reference}."]
    assert annas.state_badge() == "Requested"
    assert annas.page.get_by_test_id("awaiting-second").inner_text() == "awaiting second approval"
    assert state_of(large) == "requested" and approvers_of(large) == [anna.pk]
    # and the small one needs only her approval
    annas.decide(small.reference, "approve", "Regular player, usual amount")
    assert annas.state_badge() == "Approved"
    # then the queue marks the large one, and its filter finds only it
    annas.goto("/console/withdrawals/")
    row = annas.page.locator(f"tr[data-reference='{large.reference}']")
    assert row.get_by_test_id("awaiting-second").is_visible() and "1/2" in row.inner_text()
    filters = annas.page.get_by_test_id("filters")
    filters.get_by_label("Awaiting second approval").check()
    annas.submit(filters.get_by_role("button", name="Filter"))
    assert annas.queue_references() == [large.reference]
    annas.shot("console-queue-four-eyes")
    # when anna tries to approve it again, then the four-eyes rule refuses
    annas.open_withdrawal(large.reference)
    annas.choose("approve", "Approving again")
    annas.confirm()
    assert annas.messages() == [FOUR_EYES]
    assert approvers_of(large) == [anna.pk]
    # when burak, a second finance operator, approves it, then it is approved
    buraks = open_console(burak)
    buraks.decide(large.reference, "approve", "Second check: documents and game history fine")
    assert buraks.messages() == [f"Approve: done for {large.reference}."]
    assert buraks.state_badge() == "Approved"
    assert buraks.page.get_by_test_id("awaiting-second").count() == 0
    assert approvers_of(large) == [anna.pk, burak.pk]
    approvals = buraks.page.get_by_test_id("approvals").inner_text()
    assert "operator anna.finance" in approvals and "Large win, verified" in approvals
    assert "operator burak.finance" in approvals and "Second check" in approvals
