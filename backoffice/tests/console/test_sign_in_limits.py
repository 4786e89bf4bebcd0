"""Failed console sign-ins are limited per source address (the page with a "wait" message and 429 past
60 a minute, decided before any password is checked) and audited in aggregate: one event per address
and minute with the count and the first failure. Successful sign-ins are never counted."""

import pytest
from axes.models import AccessAttempt
from django.test import Client

from core.models import AuditEvent, RefusalTally
from core.tests.refusals import aggregates
from wallet.tests.staff import FINANCE, operator_user

from .helpers import LOGIN, PASSWORD, QUEUE, text_of

pytestmark = pytest.mark.django_db

ATTACKER = "198.51.100.7"
NEIGHBOUR = "203.0.113.9"
WAIT_EN = "Too many failed sign-ins from your address. Wait a minute, then try again."
WAIT_TR = "Adresinizden çok fazla başarısız giriş denemesi yapıldı. Bir dakika bekleyin, sonra yeniden deneyin."
WRONG = "Your username and password did not match. Please try again."


@pytest.fixture(autouse=True)
def _password_only(settings):
    settings.OPERATOR_2FA_REQUIRED = False


def fail(n: int, *, source: str = ATTACKER, username: str | None = None, **headers):
    """One wrong password from `source` (a new username each time, so django-axes locks nobody out)."""
    username = username or f"guess-{n:04d}"
    return Client().post(LOGIN, {"username": username, "password": "wrong"}, REMOTE_ADDR=source, headers=headers)


def sign_in_as(user, source: str = ATTACKER) -> Client:
    client = Client()
    client.response = client.post(LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR=source)
    return client


def test_a_flood_of_500_failed_sign_ins_is_one_audit_event_with_the_count(refusal_clock):
    # given 500 wrong passwords from one address within a minute
    before = AuditEvent.objects.count()
    statuses = [fail(n).status_code for n in range(500)]
    # then the first 60 get the usual page and the rest the wait page; nothing is audited yet
    assert statuses == [200] * 60 + [429] * 440
    assert RefusalTally.objects.get().count == 60 and AuditEvent.objects.count() == before
    # when the minute's tally is flushed, then the flood is one platform-level event (unknown usernames)
    (event,) = aggregates("operator.login_failed")
    assert AuditEvent.objects.count() == before + 1
    assert (event.tenant_id, event.actor_type, str(event.ip)) == (None, "system", ATTACKER)
    assert (event.data["count"], event.data["refused"], event.data["throttled"]) == (500, 60, 440)
    assert event.data["first"] == {
        "username": "guess-0000",
        "known_operator": False,
        "reason": "Wrong username or password",
    }


def test_the_61st_failure_gets_the_wait_page_before_any_password_check(
    finance, refusal_clock, django_assert_num_queries
):
    # given 60 failed sign-ins from one address this minute
    assert {fail(n).status_code for n in range(60)} == {200}
    attempts = AccessAttempt.objects.count()
    # when a 61st comes, then it is the sign-in page with the wait message and 429, from Redis alone
    with django_assert_num_queries(0):
        response = fail(60)
    assert response.status_code == 429 and response["Retry-After"] == "50"
    assert WAIT_EN in text_of(response) and WRONG not in text_of(response)
    # and even the right password from that address waits: no session, no check, nothing for django-axes
    client = sign_in_as(finance)
    assert client.response.status_code == 429 and "_auth_user_id" not in client.session
    assert client.get(QUEUE).status_code == 302
    assert AccessAttempt.objects.count() == attempts
    # while another address is served: wrong passwords are told so, the right one signs in
    assert WRONG in text_of(fail(61, source=NEIGHBOUR))
    other = sign_in_as(finance, source=NEIGHBOUR)
    assert other.response.status_code == 302 and other.get(QUEUE).status_code == 200
    # and the next minute, the first address may sign in again
    refusal_clock.advance(60)
    assert sign_in_as(finance).response.status_code == 302


def test_the_wait_message_is_translated(refusal_clock):
    for n in range(60):
        fail(n)
    response = fail(60, **{"Accept-Language": "tr"})
    assert response.status_code == 429 and WAIT_TR in text_of(response)


def test_successful_sign_ins_are_never_counted(finance, refusal_clock):
    # given 59 failures from one address
    assert {fail(n).status_code for n in range(59)} == {200}
    # when the operator then signs in ten times from it, then each succeeds
    assert {sign_in_as(finance).response.status_code for _ in range(10)} == {302}
    # and the limit has room for exactly one more failure
    assert fail(59).status_code == 200
    assert fail(60).status_code == 429
    (event,) = aggregates("operator.login_failed")
    assert (event.data["count"], event.data["refused"], event.data["throttled"]) == (61, 60, 1)


def test_a_known_operators_failures_are_their_casinos_event(finance, tenant, refusal_clock):
    for n in range(3):
        fail(n, username=finance.username)
    (event,) = aggregates("operator.login_failed")
    assert event.tenant_id == tenant.pk
    assert event.data["first"]["known_operator"] is True and event.data["count"] == 3


def test_failures_naming_operators_of_two_casinos_are_a_platform_event_listing_both(
    finance, tenant, other_tenant, refusal_clock
):
    foreign = operator_user(other_tenant, FINANCE)
    fail(0, username=finance.username)
    fail(1, username=foreign.username)
    (event,) = aggregates("operator.login_failed")
    assert event.tenant_id is None and event.data["tenant_ids"] == sorted([tenant.pk, other_tenant.pk])


def test_django_axes_still_locks_out_one_username_and_each_lockout_is_counted(finance, settings, refusal_clock):
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = fail(n, username=finance.username)
    assert response.status_code == 429 and "Too many failed sign-ins" in text_of(response)
    assert sign_in_as(finance).response.status_code == 429
    (event,) = aggregates("operator.login_failed")
    assert event.data["count"] == settings.AXES_FAILURE_LIMIT + 1
