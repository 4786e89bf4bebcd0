"""The API tokens page in a real browser: make a token, see its key once, use it, revoke it."""

import pytest
from rest_framework.test import APIClient

from tenants.models import OperatorToken

from ..helpers import audit_since, last_audit_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def operator_api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_an_operator_makes_uses_and_revokes_an_api_token(open_console, casino, anna):
    console = open_console(anna)
    mark = last_audit_id()
    # when the operator opens API tokens from the menu and makes one for a report script
    console.submit(console.page.get_by_role("link", name="API tokens"))
    assert "You have no API tokens." in console.page.get_by_test_id("api-tokens").inner_text()
    form = console.page.get_by_test_id("api-token-form")
    form.get_by_label("Name").fill("Month-end payout report")
    console.submit(form.get_by_role("button", name="Make a token"))
    # then the key is shown once, above the list that now has the token
    assert console.messages() == ["API token “Month-end payout report” made."]
    key = console.page.get_by_test_id("new-key-value").inner_text().strip()
    row = console.page.locator("[data-testid=api-tokens] tbody tr[data-token-id]")
    assert row.count() == 1 and "Month-end payout report" in row.inner_text() and key[:10] in row.inner_text()
    assert "never" in row.inner_text()
    console.shot("console-api-tokens")
    # and the key opens the operator API as anna; the list then shows its last use
    assert operator_api(key).get("/api/v1/admin/withdrawals/").status_code == 200
    console.goto("/console/api-tokens/")
    assert console.page.get_by_test_id("new-key").count() == 0  # shown once, never again
    assert "never" not in console.page.locator("[data-testid=api-tokens] tbody tr").inner_text()
    # when the operator revokes it
    console.submit(console.page.get_by_role("button", name="Revoke"))
    # then it is gone, the key is refused, and both acts are in the audit trail
    assert console.messages() == ["API token “Month-end payout report” revoked: it opens nothing any more."]
    assert not OperatorToken.objects.exists()
    assert operator_api(key).get("/api/v1/admin/withdrawals/").status_code == 401
    assert [e.action for e in audit_since(mark, action__startswith="operator_token.")] == [
        "operator_token.created",
        "operator_token.revoked",
    ]
