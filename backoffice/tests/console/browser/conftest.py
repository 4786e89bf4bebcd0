"""Browser fixtures: Debian's chromium driven by Playwright against pytest-django's live server.

Playwright's own browser download does not work here, so the session launches
/usr/bin/chromium (or $CHROMIUM). The browser runs on a fresh temporary user data dir
that Playwright creates for the launch (it refuses a --user-data-dir argument), and
every operator gets a fresh browser context in it (no cookies, no storage). The live
server shares the test's settings, so a test that changes one (OPERATOR_2FA_REQUIRED)
changes the server's.
"""

import pytest

from players.tests.factories import PlayerFactory
from tenants.tests.factories import OperatorFactory, TenantFactory
from wallet.tests.browser import chromium

from ..helpers import ADMIN, FINANCE, VIEWER
from .pages import Console


@pytest.fixture(scope="package")
def console_browser(django_db_setup):
    """One chromium for the console's browser tests, closed when they are done."""
    with chromium() as browser:
        yield browser


@pytest.fixture(autouse=True)
def _browser_settings(settings):
    """The demo's settings (`make run`): plain HTTP, password-only unless a test asks for TOTP."""
    settings.OPERATOR_2FA_REQUIRED = False
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False


@pytest.fixture(autouse=True)
def _second_factor_required():
    """The console view tests' default (TOTP on) does not apply here; see _browser_settings."""


@pytest.fixture
def open_console(console_browser, live_server):
    """open_console(user=None) -> a Console page object in a fresh browser context, signed in if a user is given."""
    opened = []

    def open_(user=None, *, locale: str = "en-GB") -> Console:
        context = console_browser.new_context(viewport={"width": 1280, "height": 860}, locale=locale)
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(15_000)
        console = Console(context.new_page(), live_server.url)
        opened.append((context, console))
        if user is not None:
            console.sign_in(user.username)
        return console

    yield open_
    for context, console in opened:
        problems = console.problems
        context.close()
        assert problems == [], f"the browser reported: {problems}"


@pytest.fixture
def casino():
    return TenantFactory(slug="golden-palace", name="Golden Palace", allowed_currencies=["EUR", "USD"])


def _operator(tenant, username, role):
    return OperatorFactory(tenant=tenant, role=role, user__username=username).user


@pytest.fixture
def anna(casino):
    """Finance."""
    return _operator(casino, "anna.finance", FINANCE)


@pytest.fixture
def burak(casino):
    """Finance, the second pair of eyes."""
    return _operator(casino, "burak.finance", FINANCE)


@pytest.fixture
def ceren(casino):
    """Admin."""
    return _operator(casino, "ceren.admin", ADMIN)


@pytest.fixture
def emre(casino):
    """Admin, the second pair of eyes on policy changes."""
    return _operator(casino, "emre.admin", ADMIN)


@pytest.fixture
def deniz(casino):
    """Viewer."""
    return _operator(casino, "deniz.viewer", VIEWER)


@pytest.fixture
def mia(casino):
    return PlayerFactory(tenant=casino, user__username="mia.rossi", display_name="Mia Rossi")


@pytest.fixture
def leo(casino):
    return PlayerFactory(tenant=casino, user__username="leo.janssen", display_name="Leo Janssen")
