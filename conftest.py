"""Fixtures shared by every app's tests. Tests run on the real PostgreSQL and Redis."""

import pytest

from config.celery import app as celery_app
from wallet.models import Actor

# Follow-up work queued on commit (payout dispatch) runs inline in tests, unless a test
# starts a real worker (payouts/tests/worker.py). Tenants from the factories have no
# PSP account, so an approval does not pay out unless the test gives them one.
celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories give every user a password; PBKDF2 would dominate the suite's runtime."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def system_actor():
    return Actor.system("tests")


@pytest.fixture
def psp_actor():
    return Actor.psp("sandbox")


# --- Browser tests: Debian's chromium driven by Playwright ------------------------------
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


@pytest.fixture(scope="session")
def chromium_browser():
    """One headless chromium for the session (Playwright's own browser download does not work here)."""
    import os

    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
    # between browser steps are still plain synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium_browser):
    """A fresh browser context (no cookies) and page, English unless the test switches."""
    context = chromium_browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
