"""Signing in: password (audited, locked out by django-axes), then the TOTP second factor."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import RefusalTally
from core.tests.refusals import aggregates
from wallet.tests.builders import withdrawal_in_state

from .helpers import (
    AUDIT,
    LOGIN,
    LOGOUT,
    OTP,
    OTP_SETUP,
    PASSWORD,
    POLICY,
    QUEUE,
    audit_since,
    detail_url,
    last_audit_id,
    sign_in,
    text_of,
)

pytestmark = pytest.mark.django_db

WRONG = "Your username and password did not match. Please try again."


def _log_in(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def code_of(device) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


def test_anonymous_visitors_are_sent_to_the_sign_in_page(player):
    withdrawal = withdrawal_in_state("requested", player=player)
    client = Client()
    for url in (QUEUE, detail_url(withdrawal.pk), POLICY, AUDIT, OTP, OTP_SETUP):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(f"{LOGIN}?next="), url


def test_a_user_who_is_no_operator_is_refused(player):
    client = sign_in(player.user)
    for url in (QUEUE, POLICY, AUDIT):
        assert client.get(url).status_code == 403


def test_a_sign_in_is_audited_and_lands_in_the_queue(finance, tenant, settings):
    settings.OPERATOR_2FA_REQUIRED = False
    mark = last_audit_id()
    client = Client()
    response = _log_in(client, finance.username)
    assert response.status_code == 302 and response["Location"] == "/console/withdrawals/"
    (event,) = audit_since(mark)
    assert (event.action, event.tenant_id, event.actor_user_id, event.data) == (
        "operator.login",
        tenant.pk,
        finance.pk,
        {"role": "finance"},
    )
    assert event.ip == "127.0.0.1"
    assert client.get(QUEUE).status_code == 200


def test_a_sign_in_goes_to_the_page_asked_for_but_never_off_site(finance, settings):
    settings.OPERATOR_2FA_REQUIRED = False
    assert _log_in(Client(), finance.username, next=AUDIT)["Location"] == AUDIT
    assert _log_in(Client(), finance.username, next="https://evil.example/")["Location"] == "/console/withdrawals/"


def test_a_wrong_password_is_audited_as_a_failed_login(finance, tenant):
    # given an operator, when a wrong password is given
    mark = last_audit_id()
    response = _log_in(Client(), finance.username, "wrong-horse")
    # then the page says so, and the failure is tallied for its address (audited once the minute closes)
    assert response.status_code == 200 and WRONG in text_of(response)
    assert audit_since(mark) == [] and RefusalTally.objects.get().count == 1
    (event,) = aggregates("operator.login_failed")
    assert (event.tenant_id, event.actor_type, str(event.ip)) == (tenant.pk, "system", "127.0.0.1")
    assert event.data["first"] == {
        "username": finance.username,
        "known_operator": True,
        "reason": "Wrong username or password",
    }
    assert (event.data["count"], event.data["source"]) == (1, "127.0.0.1")


def test_an_unknown_username_is_audited_without_a_tenant():
    _log_in(Client(), "nobody-here", "whatever")
    (event,) = aggregates("operator.login_failed")
    assert event.tenant_id is None
    assert event.data["first"]["known_operator"] is False


def test_repeated_wrong_passwords_lock_the_account_even_for_the_right_one(finance, settings, refusal_clock):
    # given AXES_FAILURE_LIMIT wrong passwords from one address
    client = Client()
    for attempt in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = _log_in(client, finance.username, f"wrong-{attempt}")
    # then the last one already shows the locked-out page
    assert response.status_code == 429
    assert "Too many failed sign-ins" in text_of(response)
    # when the right password follows, then it is refused too and no session starts
    mark = last_audit_id()
    response = _log_in(client, finance.username)
    assert response.status_code == 429 and "Too many failed sign-ins" in text_of(response)
    assert "_auth_user_id" not in client.session
    assert client.get(QUEUE).status_code == 302
    assert audit_since(mark) == []
    # and every failure, the locked-out one too, is in the one aggregate of the minute
    (event,) = aggregates("operator.login_failed")
    assert event.data["count"] == settings.AXES_FAILURE_LIMIT + 1


def test_a_lockout_is_per_user(finance, finance2, settings):
    settings.OPERATOR_2FA_REQUIRED = False
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _log_in(Client(), finance.username, f"wrong-{attempt}")
    assert _log_in(Client(), finance.username).status_code == 429
    assert _log_in(Client(), finance2.username).status_code == 302


def test_a_password_only_session_is_sent_to_the_second_factor(finance, player):
    # given an operator with an authenticator app who has given only the password
    device = TOTPDevice.objects.create(user=finance, name="phone", confirmed=True)
    withdrawal = withdrawal_in_state("requested", player=player)
    client = Client()
    assert _log_in(client, finance.username)["Location"] == "/console/withdrawals/"
    # then every console page sends them to the second factor, and nothing is shown or done
    for url in (QUEUE, detail_url(withdrawal.pk), POLICY, AUDIT):
        assert client.get(url)["Location"] == OTP, url
    assert client.post(f"{detail_url(withdrawal.pk)}approve/confirm/", {"reason": "r"})["Location"] == OTP
    # when a wrong code is given, then it is refused and audited
    mark = last_audit_id()
    response = client.post(OTP, {"token": "000000" if code_of(device) != "000000" else "111111"})
    assert response.status_code == 200 and "That code is not right" in text_of(response)
    assert [e.action for e in audit_since(mark)] == ["operator.second_factor_failed"]
    # when the right code follows at once, then it waits for the throttle too (a guessing brake)
    assert client.post(OTP, {"token": code_of(device)}).status_code == 200
    # when the right code is given a little later, then the console opens
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(minutes=1))
    response = client.post(OTP, {"token": code_of(device)})
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert client.get(QUEUE).status_code == 200


def test_an_operator_without_an_authenticator_app_enrols_one(finance):
    client = Client()
    _log_in(client, finance.username)
    # the console asks for the second factor, which asks for enrolment first
    assert client.get(QUEUE)["Location"] == OTP
    assert client.get(OTP)["Location"] == OTP_SETUP
    page = client.get(OTP_SETUP)
    assert b"<svg" in page.content and b'data-testid="otp-secret"' in page.content
    device = TOTPDevice.objects.get(user=finance, confirmed=False)
    assert client.post(OTP_SETUP, {"token": "12345"}).status_code == 200  # too short: the form says so
    mark = last_audit_id()
    response = client.post(OTP_SETUP, {"token": code_of(device)})
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert [e.action for e in audit_since(mark)] == ["operator.second_factor_enrolled"]
    assert TOTPDevice.objects.get(pk=device.pk).confirmed is True
    assert client.get(QUEUE).status_code == 200
    # once enrolled, the enrolment page is closed
    assert sign_in(finance, second_factor=False).get(OTP_SETUP)["Location"] == OTP


def test_without_the_requirement_a_password_is_enough(finance, settings):
    settings.OPERATOR_2FA_REQUIRED = False
    assert sign_in(finance, second_factor=False).get(QUEUE).status_code == 200


def test_signing_out_ends_the_session(finance):
    client = sign_in(finance)
    response = client.post(LOGOUT)
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert client.get(QUEUE)["Location"] == f"{LOGIN}?next={QUEUE}"


@pytest.mark.parametrize("page", [OTP, OTP_SETUP])
def test_the_second_factor_pages_offer_a_way_out(finance, page):
    # given an operator who has given only the password (enrolled for OTP, not for OTP_SETUP)
    if page == OTP:
        TOTPDevice.objects.create(user=finance, name="phone", confirmed=True)
    client = Client()
    _log_in(client, finance.username)
    # then the page they land on has a sign-out button, and it ends the session
    response = client.get(page)
    assert response.status_code == 200
    assert f'action="{LOGOUT}"' in response.content.decode()
    assert client.post(LOGOUT)["Location"] == LOGIN
    assert client.get(QUEUE)["Location"] == f"{LOGIN}?next={QUEUE}"
