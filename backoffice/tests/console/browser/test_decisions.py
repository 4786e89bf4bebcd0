"""Deciding on withdrawals in a real browser: reasons, the confirmation step, one-time tokens."""

import pytest

from wallet.models import Wallet
from wallet.tests.builders import REASON, withdrawal_in_state
from wallet.tests.invariants import expect_no_change

from ..helpers import approvers_of, audit_since, detail_url, last_audit_id, state_of
from .pages import Console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALREADY = "This form was already submitted; it was not done twice."


def _posts_to(console: Console, path: str) -> list[str]:
    """Every POST the page sends to `path`, as seen on the wire."""
    sent = []
    console.page.on("request", lambda r: sent.append(r.url) if r.method == "POST" and r.url.endswith(path) else None)
    return sent


def test_an_approval_takes_a_reason_and_a_confirmation(open_console, anna, mia):
    # given a requested withdrawal of 125.50 EUR
    withdrawal = withdrawal_in_state("requested", player=mia, amount=125_50)
    console = open_console(anna)
    mark = last_audit_id()
    # when the operator opens it from the queue, then the page shows the amount, the balances and the forms
    console.open_withdrawal(withdrawal.reference)
    page = console.page
    assert console.state_badge() == "Requested"
    assert page.get_by_test_id("balances").inner_text() == "available 0.00 EUR · held 125.50 EUR"
    assert page.get_by_test_id("form-approve").is_visible() and page.get_by_test_id("form-reject").is_visible()
    page.get_by_test_id("form-approve").get_by_role("textbox").fill("KYC documents checked, source of funds OK")
    console.shot("console-withdrawal")
    # when they approve with a reason, then a confirmation page repeats what will happen
    console.choose("approve", "KYC documents checked, source of funds OK")
    confirmation = page.get_by_test_id("confirm")
    assert confirmation.get_by_role("heading").inner_text() == f"Approve: {withdrawal.reference}?"
    assert "125.50 EUR" in confirmation.inner_text() and "Mia Rossi" in confirmation.inner_text()
    assert state_of(withdrawal) == "requested"  # nothing happened yet
    console.shot("console-confirm")
    # when they confirm, then the withdrawal is approved and the money stays held
    console.confirm()
    assert console.messages() == [f"Approve: done for {withdrawal.reference}."]
    assert console.state_badge() == "Approved"
    assert page.get_by_test_id("balances").inner_text() == "available 0.00 EUR · held 125.50 EUR"
    # and the approver is not offered to mark it paid too (four eyes), and is told why
    assert page.get_by_test_id("form-mark-paid").count() == 0
    assert page.get_by_test_id("decision-note").inner_text() == (
        "You requested or approved this withdrawal, so another operator must mark it paid."
    )
    (event,) = audit_since(mark, action="withdrawal.approved")
    assert (event.actor_user_id, event.reason) == (anna.pk, "KYC documents checked, source of funds OK")
    assert "KYC documents checked" in page.get_by_test_id("timeline").inner_text()


def test_a_double_click_on_confirm_approves_once(open_console, anna, mia):
    withdrawal = withdrawal_in_state("requested", player=mia)
    console = open_console(anna)
    console.goto(detail_url(withdrawal.pk))
    console.choose("approve", REASON)
    sent = _posts_to(console, f"{withdrawal.pk}/approve/")
    mark = last_audit_id()
    # when the operator double-clicks the confirm button, then one request is sent and one approval made
    with console.page.expect_navigation():
        console.page.get_by_test_id("confirm-button").dblclick()
    assert len(sent) == 1
    assert console.messages() == [f"Approve: done for {withdrawal.reference}."]
    assert approvers_of(withdrawal) == [anna.pk]
    assert len(audit_since(mark, action="withdrawal.approved")) == 1


def test_a_confirmation_submitted_twice_is_done_once(console_browser, live_server, anna, mia):
    # given an operator whose browser runs no script (so only the server's one-time token guards)
    withdrawal = withdrawal_in_state("requested", player=mia)
    context = console_browser.new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        console = Console(context.new_page(), live_server.url)
        console.sign_in(anna.username)
        console.goto(detail_url(withdrawal.pk))
        console.choose("approve", REASON)
        mark = last_audit_id()
        # and the server's first answer lost on the way back: the browser stays on the confirmation
        decide_path = f"{withdrawal.pk}/approve/"
        context.route(f"**/{decide_path}", lambda route: (route.fetch(max_redirects=0), route.fulfill(status=204)))
        console.page.get_by_test_id("confirm-button").click()
        console.page.wait_for_function("() => true")  # the 204 leaves the page as it is
        assert state_of(withdrawal) == "approved"
        context.unroute(f"**/{decide_path}")
        # when the operator confirms again, then the second submission is refused as already done
        # (the first answer's message reached the cookie jar, so it shows too)
        console.confirm()
        assert console.messages() == [f"Approve: done for {withdrawal.reference}.", ALREADY]
        assert console.state_badge() == "Approved"
        assert approvers_of(withdrawal) == [anna.pk]
        assert len(audit_since(mark, action="withdrawal.approved")) == 1
    finally:
        context.close()


def test_a_rejection_without_a_reason_changes_nothing(open_console, anna, mia):
    withdrawal = withdrawal_in_state("requested", player=mia, amount=75_00)
    console = open_console(anna)
    console.goto(detail_url(withdrawal.pk))
    # when the operator rejects without writing a reason, then the page says so and nothing changes
    with expect_no_change():
        console.choose("reject", "")
    assert console.messages() == ["Give a reason for this decision. Nothing was changed."]
    assert console.page.url.endswith(detail_url(withdrawal.pk)) and console.state_badge() == "Requested"
    assert console.page.get_by_test_id("balances").inner_text() == "available 0.00 EUR · held 75.00 EUR"
    # when they give one and confirm, then the money goes back to the player's available balance
    console.choose("reject", "Card holder name does not match the account")
    console.confirm()
    assert console.state_badge() == "Rejected"
    assert console.page.get_by_test_id("balances").inner_text() == "available 75.00 EUR · held 0.00 EUR"


def test_a_withdrawal_is_marked_paid_by_another_operator(open_console, anna, burak, mia):
    # given a withdrawal anna approved
    withdrawal = withdrawal_in_state("requested", player=mia, amount=200_00)
    annas = open_console(anna)
    annas.decide(withdrawal.reference, "approve", REASON)
    # then anna is not offered to mark it paid herself: the four-eyes rule
    assert annas.page.get_by_test_id("form-mark-paid").count() == 0
    assert annas.state_badge() == "Approved"
    # when burak marks it paid, then it is paid and the held money has left the wallet
    buraks = open_console(burak)
    buraks.decide(withdrawal.reference, "mark-paid", "Paid by bank transfer, ref 88231")
    assert buraks.messages() == [f"Mark paid: done for {withdrawal.reference}."]
    assert buraks.state_badge() == "Paid"
    assert buraks.page.get_by_test_id("balances").inner_text() == "available 0.00 EUR · held 0.00 EUR"
    assert "No decision is possible in this state." in buraks.page.get_by_test_id("actions").inner_text()
    wallet = Wallet.objects.get(pk=withdrawal.wallet_id)
    assert (wallet.balance_available, wallet.balance_held) == (0, 0)
    # and the transaction snapshot tells the whole story, ledger included
    buraks.submit(buraks.page.get_by_role("link", name="Transaction snapshot"))
    ledger = buraks.page.get_by_test_id("ledger").inner_text()
    assert "Withdrawal requested" in ledger and "Withdrawal paid" in ledger
    timeline = buraks.page.get_by_test_id("timeline").inner_text()
    assert "Operator: anna.finance" in timeline and "Operator: burak.finance" in timeline
    buraks.shot("console-snapshot")
