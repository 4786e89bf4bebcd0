"""The reconciliation page in a real browser: run now, read the findings, acknowledge and resolve."""

import pytest

from reconciliation.models import Finding
from reconciliation.tests.books import corrupted_books

from ..helpers import audit_since, last_audit_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_finance_runs_reconciliation_and_works_through_its_findings(open_console, casino, anna):
    # given a casino whose books disagree in three ways
    books = corrupted_books(casino)
    console = open_console(anna)
    console.goto("/console/reconciliation/")
    assert "No reconciliation has run yet." in console.page.get_by_test_id("reconciliation-summary").inner_text()
    # when finance runs reconciliation now
    mark = last_audit_id()
    console.submit(console.page.get_by_test_id("run-now"))
    # then the page shows the run, its counts and its three findings
    (message,) = console.messages()
    assert message.startswith("Reconciliation run #") and message.endswith(": 3 findings.")
    summary = console.page.get_by_test_id("reconciliation-summary").inner_text()
    assert "Critical 2" in summary and "Medium 1" in summary
    rows = console.page.locator("[data-testid=findings] tbody tr[data-finding]")
    assert rows.count() == 3
    finding = {f.object_id: f for f in Finding.objects.filter(tenant=casino)}
    paid = console.page.locator(f"tr[data-finding='{finding[str(books.withdrawal.pk)].pk}']")
    stuck = console.page.locator(f"tr[data-finding='{finding[str(books.deposit.pk)].pk}']")
    assert "max_seconds: 86400" in stuck.inner_text() and "state: pending_provider" in stuck.inner_text()
    # when they acknowledge the stuck deposit
    console.submit(stuck.get_by_role("button", name="Acknowledge"))
    assert console.messages() == [f"Finding #{finding[str(books.deposit.pk)].pk} is now Acknowledged."]
    # and press Resolve on the paid withdrawal without a note, then with one
    console.submit(paid.get_by_role("button", name="Resolve"))
    assert console.messages() == ["Give a reason for this decision."]
    paid.get_by_placeholder("How was it resolved? (required)").fill("Booked the missing withdraw_paid entry.")
    console.shot("console-reconciliation")
    console.submit(paid.get_by_role("button", name="Resolve"))
    # then each finding shows its new status and who acted, and the acts are audited
    assert console.messages() == [f"Finding #{finding[str(books.withdrawal.pk)].pk} is now Resolved."]
    assert "anna.finance: Booked the missing withdraw_paid entry." in paid.inner_text()
    assert paid.get_by_role("button").count() == 0
    assert "Acknowledged" in stuck.inner_text() and stuck.get_by_role("button", name="Acknowledge").count() == 0
    statuses = dict(Finding.objects.filter(tenant=casino).values_list("object_id", "status"))
    assert statuses == {
        str(books.wallet.pk): "open",
        str(books.withdrawal.pk): "resolved",
        str(books.deposit.pk): "acknowledged",
    }
    assert [e.action for e in audit_since(mark, action__startswith="reconciliation.")] == [
        "reconciliation.run_started",
        "reconciliation.run_succeeded",
        "reconciliation.finding_acknowledged",
        "reconciliation.finding_resolved",
    ]
    # and the withdrawal's finding links to its snapshot
    console.submit(paid.get_by_role("link", name="withdrawal"))
    assert console.page.url.endswith(f"/console/transactions/{books.withdrawal.pk}/")
