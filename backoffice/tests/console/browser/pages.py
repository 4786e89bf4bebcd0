"""The console as an operator sees it: a small page object over Playwright, and screenshots."""

import os
from pathlib import Path

from django.conf import settings
from playwright.sync_api import Page

from ..helpers import PASSWORD

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "img"


class Console:
    def __init__(self, page: Page, base_url: str):
        self.page, self.base_url = page, base_url
        self.problems: list[str] = []  # JavaScript errors and CSP refusals the browser reported
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self._note_console)

    def _note_console(self, message) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.problems.append(message.text)

    # --- getting around ----------------------------------------------------------------
    def goto(self, path: str):
        return self.page.goto(self.base_url + path)

    def submit(self, locator) -> None:
        """Click a submit button and wait for the page it leads to."""
        with self.page.expect_navigation():
            locator.click()

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.goto("/console/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.submit(self.page.get_by_role("button", name="Sign in"))

    def choose_language(self, name: str) -> None:
        """Pick "Türkçe" or "English" in the language menu; the same page comes back in it."""
        with self.page.expect_navigation():
            self.page.get_by_label({"Türkçe": "Language", "English": "Dil"}[name]).select_option(label=name)

    def open_withdrawal(self, reference: str) -> None:
        self.submit(self.page.get_by_role("link", name=reference, exact=True))

    def choose(self, decision: str, reason: str) -> None:
        """Fill a decision's reason on the withdrawal page and go on to its confirmation."""
        form = self.page.get_by_test_id(f"form-{decision}")
        form.get_by_role("textbox").fill(reason)
        self.submit(form.get_by_role("button"))

    def confirm(self) -> None:
        self.submit(self.page.get_by_test_id("confirm-button"))

    def decide(self, reference: str, decision: str, reason: str) -> None:
        self.goto("/console/withdrawals/?state=requested&state=approved&state=payout_failed")
        self.open_withdrawal(reference)
        self.choose(decision, reason)
        self.confirm()

    # --- reading -------------------------------------------------------------------------
    def messages(self) -> list[str]:
        return [text.strip() for text in self.page.locator("[data-testid=messages] li").all_inner_texts()]

    def queue_references(self) -> list[str]:
        rows = self.page.locator("[data-testid=queue] tbody tr[data-reference]")
        return [rows.nth(i).get_attribute("data-reference") for i in range(rows.count())]

    def state_badge(self) -> str:
        return self.page.get_by_test_id("state").inner_text().strip()

    def shot(self, name: str, *, full_page: bool = True) -> None:
        """Save docs/img/<name>.png for the operator guide, only when WRITE_SCREENSHOTS=1."""
        if os.environ.get("WRITE_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
