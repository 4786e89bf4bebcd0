"""Console pages carry the CSP and security headers; session cookies are guarded and expire when idle."""

import importlib.util
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from wallet.tests.builders import withdrawal_in_state

from .helpers import API_TOKENS, AUDIT, LOGIN, OTP_SETUP, POLICY, QUEUE, confirm, detail_url, sign_in, snapshot_url

pytestmark = pytest.mark.django_db

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _csp(response) -> dict[str, str]:
    directives = (part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    return dict(directives)


def _check_headers(response, url):
    assert {name: value for name, value in _csp(response).items() if name in CSP} == CSP, url
    for name, value in HEADERS.items():
        assert response[name] == value, (url, name)


def test_every_console_page_has_the_csp_and_security_headers(finance, player, client):
    withdrawal = withdrawal_in_state("requested", player=player)
    signed_in = sign_in(finance)
    for url in (QUEUE, detail_url(withdrawal.pk), snapshot_url(withdrawal.pk), POLICY, AUDIT, API_TOKENS):
        _check_headers(signed_in.get(url), url)
    _check_headers(confirm(signed_in, withdrawal, "approve"), "confirm")
    _check_headers(client.get(LOGIN), LOGIN)


def test_no_console_page_is_kept_in_the_browsers_cache(finance, viewer, player):
    # the back button after signing out must not show a player's withdrawal again
    withdrawal = withdrawal_in_state("requested", player=player)
    client = sign_in(finance)
    pages = [client.get(url) for url in (QUEUE, detail_url(withdrawal.pk), POLICY, AUDIT, API_TOKENS)]
    pages.append(confirm(client, withdrawal, "approve"))
    # and neither are the sign-in pages, the enrolment one with its secret key least of all
    password_only = sign_in(viewer, second_factor=False)
    enrolment = password_only.get(OTP_SETUP)
    assert enrolment.status_code == 200 and b'data-testid="otp-secret"' in enrolment.content
    pages += [enrolment, Client().get(LOGIN)]
    for response in pages:
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_no_template_needs_inline_script_or_style():
    # the CSP allows scripts and styles from our own files only
    templates = django_settings.BASE_DIR / "templates" / "console"
    for path in templates.glob("*.html"):
        text = path.read_text()
        assert "<script>" not in text and "<style" not in text and " style=" not in text, path
        assert " onclick=" not in text and " onchange=" not in text and " onsubmit=" not in text, path


def test_the_session_cookie_is_http_only_same_site_and_secure_when_configured(finance, settings):
    settings.SESSION_COOKIE_SECURE = True
    client = sign_in(finance)
    cookie = client.get(QUEUE).cookies["sessionid"]
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax" and cookie["secure"] is True
    assert cookie["max-age"] == ""  # a browser-session cookie: gone when the browser closes
    settings.SESSION_COOKIE_SECURE = False
    assert client.get(QUEUE).cookies["sessionid"]["secure"] == ""


def _settings_with(monkeypatch, **env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = django_settings.BASE_DIR / "config" / "settings.py"
    spec = importlib.util.spec_from_file_location("settings_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_secure_cookies_follow_django_secure_cookies(monkeypatch):
    on = _settings_with(monkeypatch, DJANGO_SECURE_COOKIES="1", DJANGO_DEBUG="0")
    assert on.SESSION_COOKIE_SECURE is on.CSRF_COOKIE_SECURE is True
    assert on.SECURE_HSTS_SECONDS == 31536000
    off = _settings_with(monkeypatch, DJANGO_SECURE_COOKIES="0")
    assert off.SESSION_COOKIE_SECURE is off.CSRF_COOKIE_SECURE is False
    monkeypatch.delenv("DJANGO_SECURE_COOKIES", raising=False)
    default = _settings_with(monkeypatch, DJANGO_DEBUG="0")
    assert default.SESSION_COOKIE_SECURE is True  # production is the default
    for module in (on, off, default):
        assert module.SESSION_COOKIE_HTTPONLY is True and module.SESSION_COOKIE_SAMESITE == "Lax"
        assert module.SESSION_SAVE_EVERY_REQUEST is True and module.SESSION_COOKIE_AGE == 30 * 60


def _expiry(client) -> timedelta:
    return Session.objects.get(session_key=client.session.session_key).expire_date - timezone.now()


def test_every_request_renews_the_idle_timeout(finance, settings):
    client = sign_in(finance)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() + timedelta(seconds=30)
    )
    assert client.get(QUEUE).status_code == 200
    assert timedelta(seconds=settings.SESSION_COOKIE_AGE - 60) < _expiry(client)
    assert _expiry(client) <= timedelta(seconds=settings.SESSION_COOKIE_AGE)


def test_an_idle_session_expires(finance):
    client = sign_in(finance)
    assert client.get(QUEUE).status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(QUEUE)
    assert response.status_code == 302 and response["Location"] == f"{LOGIN}?next={QUEUE}"
