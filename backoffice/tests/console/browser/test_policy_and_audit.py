"""The payment policy page (admins edit, viewers read) and the audit browser, in a real browser."""

import pytest

from tenants.models import PaymentPolicy
from wallet.errors import TenantPaymentLimitExceeded
from wallet.tests.builders import set_limits, withdraw
from wallet.tests.factories import fund

from ..helpers import audit_since, last_audit_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_loosens_the_policy_a_second_admin_approves_and_a_viewer_reads_it(
    open_console, casino, ceren, emre, deniz
):
    set_limits(casino, daily_withdraw_limit=1000_00)
    admin = open_console(ceren)
    admin.goto("/console/policy/")
    form = admin.page.get_by_test_id("policy-form")
    eur = form.locator("tr[data-currency=EUR]")
    assert eur.locator("input[name$=daily_withdraw_limit]").input_value() == "1000.00"
    # when the admin changes limits and the retry rules with a reason and saves
    form.get_by_label("Payout attempts per withdrawal").fill("4")
    form.get_by_label("Seconds between payout attempts").fill("300")
    eur.locator("input[name$=daily_withdraw_limit]").fill("2500.00")
    eur.locator("input[name$=four_eyes_amount]").fill("1000.00")
    form.locator("tr[data-currency=USD] input[name$=max_amount]").fill("5000")
    form.get_by_label("Why the change").fill("Q3 risk review")
    admin.shot("console-policy")
    mark = last_audit_id()
    admin.submit(form.get_by_role("button", name="Save policy"))
    # then, as it raises a limit and the attempts, it waits for a second admin; nothing applies yet
    (message,) = admin.messages()
    assert message.startswith("Your change loosens a control, so it waits for another admin's approval (until ")
    assert PaymentPolicy.objects.get(tenant=casino).payout_retry_limit == 3
    pending = admin.page.get_by_test_id("pending-change")
    assert "ceren.admin" in pending.inner_text() and "2,500.00 EUR" in pending.inner_text()
    assert pending.get_by_test_id("approve-change").count() == 0  # not by its requester
    assert pending.get_by_test_id("own-request").is_visible()
    # when the second admin opens the page, reads the change and approves it with a reason
    checker = open_console(emre)
    checker.goto("/console/policy/")
    pending = checker.page.get_by_test_id("pending-change")
    rows = pending.locator("tbody tr").all_inner_texts()
    assert any("1,000.00 EUR" in row and "2,500.00 EUR" in row for row in rows), rows
    checker.shot("console-policy-pending")
    pending.get_by_label("Why you approve").fill("Agreed in the Q3 risk review")
    checker.submit(pending.get_by_test_id("approve-change"))
    assert checker.messages()[0].startswith("Policy change #") and "approved and applies now" in checker.messages()[0]
    # then it is saved, shown again as saved, and audited: the request and the approval
    admin.goto("/console/policy/")
    form = admin.page.get_by_test_id("policy-form")
    assert form.locator("tr[data-currency=EUR] input[name$=four_eyes_amount]").input_value() == "1000.00"
    assert form.locator("tr[data-currency=USD] input[name$=max_amount]").input_value() == "5000.00"
    policy = PaymentPolicy.objects.get(tenant=casino)
    assert (policy.payout_retry_limit, policy.payout_cooldown_seconds) == (4, 300)
    limits = {row.currency: row for row in policy.currency_limits.all()}
    assert (limits["EUR"].daily_withdraw_limit, limits["EUR"].four_eyes_amount) == (2500_00, 1000_00)
    assert limits["USD"].max_amount == 5000_00
    events = audit_since(mark, action__startswith="policy.")
    assert [(e.action, e.reason) for e in events] == [
        ("policy.change_requested", "Q3 risk review"),
        ("policy.change_approved", "Agreed in the Q3 risk review"),
    ]
    # when a viewer opens the page, then they read the same values in a form they cannot change
    viewer = open_console(deniz)
    viewer.goto("/console/policy/")
    form = viewer.page.get_by_test_id("policy-form")
    assert form.get_by_label("Payout attempts per withdrawal").input_value() == "4"
    assert form.get_by_label("Payout attempts per withdrawal").is_disabled()
    assert form.locator("tr[data-currency=EUR] input[name$=daily_withdraw_limit]").is_disabled()
    assert form.get_by_role("button", name="Save policy").count() == 0
    assert "Only admins may change the payment policy." in form.inner_text()
    viewer.shot("console-policy-read-only")


def test_a_limit_refusal_shows_in_the_audit_browser(open_console, casino, anna, mia):
    # given a daily withdrawal limit of 100.00 EUR and a player who already asked for 80.00 today
    set_limits(casino, daily_withdraw_limit=100_00)
    fund(mia, 500_00)
    withdraw(mia, 80_00)
    # when the player asks for 50.00 more (the service the player API calls), then it is refused
    with pytest.raises(TenantPaymentLimitExceeded):
        withdraw(mia, 50_00)
    # then the audit browser, filtered to limit refusals, shows it
    console = open_console(anna)
    console.goto("/console/audit/")
    filters = console.page.get_by_test_id("audit-filters")
    filters.get_by_label("Action").fill("limit.refused")
    console.submit(filters.get_by_role("button", name="Filter"))
    rows = console.page.locator("[data-testid=audit] tbody tr")
    assert rows.count() == 1
    row = rows.first.inner_text()
    assert "Payment refused by a limit" in row and "limit.refused" in row and "Player: mia.rossi" in row
    assert "100.00" in row and "80.00" in row and "50.00" in row
    details = rows.first.locator("details")
    assert not details.locator("pre").is_visible()
    details.locator("summary").click()  # the refusal's fields: action, limit, used, requested
    assert "'error_code': 'TENANT_PAYMENT_LIMIT_EXCEEDED'" in details.locator("pre").inner_text()
    assert "'action': 'withdraw'" in details.locator("pre").inner_text()
    console.shot("console-audit")
    # and "withdrawal." finds the withdrawal events, but not the refusal
    filters = console.page.get_by_test_id("audit-filters")
    filters.get_by_label("Action").fill("withdrawal.")
    console.submit(filters.get_by_role("button", name="Filter"))
    actions = console.page.locator("[data-testid=audit] tbody tr td:nth-child(2) code").all_inner_texts()
    assert actions == ["withdrawal.requested"]
