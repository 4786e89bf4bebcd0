"""The four-eyes rule in a real browser: large withdrawals need two different finance operators."""

import pytest

from wallet.tests.builders import set_limits, withdrawal_in_state

from ..helpers import approvers_of, state_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_large_withdrawal_needs_a_second_approver(open_console, casino, anna, burak, mia, leo):
    # given two approvals from 500.00 EUR, a withdrawal of 750.00 EUR and a small one
    set_limits(casino, four_eyes_amount=500_00)
    large = withdrawal_in_state("requested", player=mia, amount=750_00)
    small = withdrawal_in_state("requested", player=leo, amount=499_99)
    annas = open_console(anna)
    # when anna approves the large one, then it stays requested, awaiting a second approval
    annas.decide(large.reference, "approve", "Large win, verified with the game provider")
    assert annas.messages() == ["Approval 1 of 2 recorded; a second finance operator must approve."]
    assert annas.state_badge() == "Requested"
    assert annas.page.get_by_test_id("awaiting-second").inner_text() == "awaiting second approval"
    assert state_of(large) == "requested" and approvers_of(large) == [anna.pk]
    # and the page she lands on offers her no second Approve, and says why
    assert annas.page.get_by_test_id("form-approve").count() == 0
    assert annas.page.get_by_test_id("decision-note").inner_text() == (
        "You approved this withdrawal already; a second finance operator must approve it."
    )
    assert "1 / 2 · approved by anna.finance" in annas.page.get_by_test_id("approvals-count").inner_text()
    # and the small one needs only her approval
    annas.decide(small.reference, "approve", "Regular player, usual amount")
    assert annas.state_badge() == "Approved"
    # then the queue marks the large one, and its filter finds only it
    annas.goto("/console/withdrawals/")
    row = annas.page.locator(f"tr[data-reference='{large.reference}']")
    assert row.get_by_test_id("awaiting-second").is_visible() and "1/2" in row.inner_text()
    assert "anna.finance" in row.inner_text()
    filters = annas.page.get_by_test_id("filters")
    filters.get_by_label("Awaiting second approval").check()
    annas.submit(filters.get_by_role("button", name="Filter"))
    assert annas.queue_references() == [large.reference]
    annas.shot("console-queue-four-eyes")
    # and a confirmation she had opened before her approval is refused by the four-eyes rule
    annas.open_withdrawal(large.reference)
    assert annas.page.get_by_test_id("form-approve").count() == 0
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
    # and beside the decision, the player's context: lifetime figures, earlier withdrawals, last transactions
    context = buraks.page.get_by_test_id("player-context")
    assert "Mia Rossi" in context.inner_text()
    assert "None: this is the player's first withdrawal." in context.get_by_test_id("previous-withdrawals").inner_text()
    buraks.submit(context.get_by_role("link", name="Mia Rossi"))
    assert buraks.page.get_by_test_id("balances").is_visible()
    buraks.shot("console-player")


def test_the_first_approver_reads_1_of_2_and_no_approve_button_in_turkish(open_console, casino, anna, mia):
    set_limits(casino, four_eyes_amount=500_00)
    large = withdrawal_in_state("requested", player=mia, amount=750_00)
    annas = open_console(anna)
    annas.goto("/console/withdrawals/")
    annas.choose_language("Türkçe")
    annas.open_withdrawal(large.reference)
    form = annas.page.get_by_test_id("form-approve")
    form.get_by_role("textbox").fill("Büyük kazanç, doğrulandı")
    annas.submit(form.get_by_role("button"))
    annas.confirm()
    assert annas.messages() == ["2 onaydan 1. onay kaydedildi; ikinci bir finans operatörü onaylamalı."]
    assert annas.page.get_by_test_id("form-approve").count() == 0
    assert annas.page.get_by_test_id("decision-note").inner_text() == (
        "Bu para çekme talebini zaten onayladınız; ikinci bir finans operatörü onaylamalı."
    )
    assert "750,00 EUR" in annas.page.get_by_test_id("summary").inner_text()
