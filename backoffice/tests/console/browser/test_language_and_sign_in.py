"""The language menu, and enrolling an authenticator app (TOTP), in a real browser."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from wallet.tests.builders import withdrawal_in_state

from ..helpers import audit_since, detail_url, last_audit_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_language_menu_switches_the_console_to_turkish(open_console, anna, mia):
    withdrawal = withdrawal_in_state("requested", player=mia, amount=90_00)
    console = open_console(anna)
    console.goto(detail_url(withdrawal.pk))
    # when the operator chooses Türkçe, then the same page comes back in Turkish
    console.choose_language("Türkçe")
    page = console.page
    assert page.url.endswith(detail_url(withdrawal.pk))
    assert page.locator("html").get_attribute("lang") == "tr"
    assert page.get_by_role("navigation", name="Ana menü").inner_text().split() == [
        "Para",
        "çekme",
        "talepleri",
        "Oyuncular",
        "Ters",
        "ibrazlar",
        "Ödeme",
        "politikası",
        "Denetim",
        "izi",
        "Raporlar",
        "Mutabakat",
        "API",
        "belirteçleri",
    ]
    assert console.state_badge() == "Talep edildi"
    assert page.get_by_test_id("actions").get_by_role("heading").inner_text() == "Karar"
    # and its messages are Turkish too
    console.choose("reject", "")
    assert console.messages() == ["Bu karar için bir gerekçe yazın. Hiçbir şey değiştirilmedi."]
    console.shot("console-turkish", full_page=False)
    console.choose("approve", "Belgeler kontrol edildi")
    assert page.get_by_test_id("confirm-button").inner_text() == "Evet, onayla"
    console.confirm()
    assert console.messages() == [f"Onayla: {withdrawal.reference} için tamamlandı."]
    assert console.state_badge() == "Onaylandı"
    # when they switch back, then it is English again
    console.choose_language("English")
    assert console.state_badge() == "Approved"


def test_an_operator_enrols_an_authenticator_app(open_console, anna, settings):
    # given the production setting: operators confirm every sign-in with a TOTP code
    settings.OPERATOR_2FA_REQUIRED = True
    console = open_console()
    mark = last_audit_id()
    # when an operator without an authenticator app signs in, then the console asks to enrol one
    console.sign_in(anna.username)
    page = console.page
    assert page.url.endswith("/console/login/second-factor/setup/")
    assert page.get_by_role("heading", name="Set up two-factor sign-in").is_visible()
    assert page.locator(".qr svg").is_visible()
    secret = page.get_by_test_id("otp-secret").inner_text()
    console.shot("console-otp-setup")
    # when they type the code the app shows for the key, then they land in the review queue
    device = TOTPDevice.objects.get(user=anna, confirmed=False)
    assert secret.rstrip("=") == _base32(device.bin_key)
    page.get_by_label("Code from your authenticator app").fill(_code(device))
    console.submit(page.get_by_role("button", name="Confirm"))
    assert page.url.endswith("/console/withdrawals/")
    assert page.get_by_role("heading", name="Withdrawal review queue").is_visible()
    assert [e.action for e in audit_since(mark)] == ["operator.login", "operator.second_factor_enrolled"]
    # when they sign out and in again, then the console asks for the code (not for enrolment)
    console.submit(page.get_by_role("button", name="Sign out"))
    console.sign_in(anna.username)
    assert page.url.endswith("/console/login/second-factor/")
    assert page.get_by_role("heading", name="Confirm it is you").is_visible()
    device.refresh_from_db()
    page.get_by_label("Code from your authenticator app").fill(_code(device, next_step=True))
    console.submit(page.get_by_role("button", name="Continue"))
    assert page.get_by_role("heading", name="Withdrawal review queue").is_visible()


def _base32(key: bytes) -> str:
    import base64

    return base64.b32encode(key).decode().rstrip("=")


def _code(device, *, next_step: bool = False) -> str:
    """The code an authenticator app shows; a code is accepted once, so a second sign-in uses the next one.

    Counted with the device's drift: a code typed across a 30-second boundary is accepted one step
    back and the device remembers that drift, so "the next code" is the next one after the device's
    view of now, not the clock's (without it, the second sign-in failed whenever the first straddled
    a boundary)."""
    drift = device.drift + (1 if next_step else 0)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, drift=drift):06d}"
