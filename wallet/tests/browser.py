"""Launching Debian's chromium through Playwright for the browser tests.

Playwright's own browser download does not work here, so /usr/bin/chromium (or
$CHROMIUM) is launched. Playwright's sync API keeps an event loop running in this
thread while it is open, and Django refuses ORM calls from such a thread unless
DJANGO_ALLOW_ASYNC_UNSAFE is set; the calls the tests make between browser steps are
plain synchronous ones all the same. Each browser test package opens the browser with
a package- or module-scoped fixture around this, so the loop and the setting end with
the package and the tests that follow inherit neither.
"""

import os
from contextlib import contextmanager

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium():
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=CHROMIUM_ARGS, timeout=30_000
            )
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
