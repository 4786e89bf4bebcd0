"""Every console action answers its POST with a redirect, and every POST needs the CSRF token."""

import re

import pytest
from django.test import Client

from tenants.models import PaymentPolicy
from wallet.tests.builders import AMOUNT, withdrawal_in_state
from wallet.tests.invariants import expect_no_change, record_effects

from .helpers import (
    DECISIONS,
    LOGIN,
    LOGOUT,
    OTP_SETUP,
    PASSWORD,
    POLICY,
    SET_LANGUAGE,
    confirm,
    confirm_url,
    decide_url,
    detail_url,
    execute,
    messages_after,
    sign_in,
    state_of,
    token_in,
)

pytestmark = pytest.mark.django_db

# decision -> (ledger events, change of available, change of held)
MONEY = {
    "approve": ([], 0, 0),
    "reject": (["withdraw_released"], AMOUNT, -AMOUNT),
    "mark-paid": (["withdraw_paid"], 0, -AMOUNT),
    "retry-payout": ([], 0, 0),
}


def policy_form(retry_limit: int = 2, cooldown: int = 30, reason: str = "tighten limits") -> dict:
    """Tightens the default policy (3 attempts, no cooldown, no limits), so it applies at once."""
    return {
        "payout_retry_limit": retry_limit,
        "payout_cooldown_seconds": cooldown,
        "reason": reason,
        "limits-TOTAL_FORMS": 1,
        "limits-INITIAL_FORMS": 1,
        "limits-0-currency": "EUR",
        "limits-0-daily_withdraw_limit": "500.00",
        "limits-0-four_eyes_amount": "1000.00",
    }


@pytest.mark.parametrize("decision", DECISIONS)
def test_every_decision_redirects_to_the_withdrawal_and_moves_the_money_it_should(decision, finance, player):
    # given a withdrawal in the state the decision is offered in
    start, end = DECISIONS[decision]
    withdrawal = withdrawal_in_state(start, player=player)
    client = sign_in(finance)
    token = token_in(confirm(client, withdrawal, decision))
    # when the confirmed form is posted, then the answer is a redirect to the withdrawal page
    with record_effects(withdrawal.wallet) as effects:
        response = execute(client, withdrawal, decision, token)
    assert response.status_code == 302 and response["Location"] == detail_url(withdrawal.pk)
    assert state_of(withdrawal) == end
    assert (effects.ledger, effects.available, effects.held) == MONEY[decision]
    assert effects.history == [(start, end)]
    # and reloading the page it lands on repeats nothing
    with expect_no_change():
        assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("decision", DECISIONS)
def test_refused_and_repeated_decisions_redirect_too(decision, finance, player):
    start, _end = DECISIONS[decision]
    withdrawal = withdrawal_in_state("canceled", player=player)  # no decision is possible
    client = sign_in(finance)
    token = token_in(confirm(client, withdrawal, decision))
    refused = execute(client, withdrawal, decision, token)
    assert refused.status_code == 302 and refused["Location"] == detail_url(withdrawal.pk)
    assert messages_after(client, refused)[0].startswith("Not possible now: this withdrawal is canceled")
    no_reason = confirm(client, withdrawal, decision, reason="")
    assert no_reason.status_code == 302 and no_reason["Location"] == detail_url(withdrawal.pk)


def test_a_policy_change_redirects_and_a_refused_one_too(admin, viewer, tenant):
    response = sign_in(admin).post(POLICY, policy_form())
    assert response.status_code == 302 and response["Location"] == POLICY
    assert PaymentPolicy.objects.get(tenant=tenant).payout_retry_limit == 2
    viewer_client = sign_in(viewer)
    with expect_no_change():
        refused = viewer_client.post(POLICY, policy_form(retry_limit=1))
    assert refused.status_code == 302 and refused["Location"] == POLICY
    assert PaymentPolicy.objects.get(tenant=tenant).payout_retry_limit == 2


def test_a_policy_change_is_saved_with_amounts_and_audited(admin, tenant):
    client = sign_in(admin)
    response = client.post(POLICY, policy_form(retry_limit=1, cooldown=120))
    assert messages_after(client, response) == ["The payment policy is saved."]
    policy = PaymentPolicy.objects.get(tenant=tenant)
    (limits,) = policy.currency_limits.all()
    assert (policy.payout_retry_limit, policy.payout_cooldown_seconds) == (1, 120)
    assert (limits.daily_withdraw_limit, limits.four_eyes_amount, limits.daily_deposit_limit) == (500_00, 1000_00, None)
    page = client.get(POLICY)
    assert 'value="500.00"' in page.content.decode() and 'value="1000.00"' in page.content.decode()


def test_a_policy_change_without_a_reason_is_shown_again_and_changes_nothing(admin, tenant):
    client = sign_in(admin)
    with expect_no_change():
        response = client.post(POLICY, policy_form(retry_limit=7, reason="  "))
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["Give a reason for this decision."]
    assert 'value="7"' in response.content.decode()  # what the admin typed is kept
    assert PaymentPolicy.objects.get(tenant=tenant).payout_retry_limit == 3


def test_a_policy_with_a_bad_amount_is_shown_again_with_the_error(admin, tenant):
    form, client = {**policy_form(), "limits-0-daily_withdraw_limit": "12.345"}, sign_in(admin)
    with expect_no_change():
        response = client.post(POLICY, form)
    assert response.status_code == 200
    assert "Daily withdrawal limit" in str(list(response.context["messages"])[0])


def _csrf_token(client, url: str) -> str:
    page = client.get(url)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def test_every_console_post_needs_the_csrf_token(finance, admin, player):
    # given fully signed-in browsers that enforce CSRF, as real ones do
    withdrawal = withdrawal_in_state("requested", player=player)
    client, admin_client = (sign_in(u, enforce_csrf_checks=True) for u in (finance, admin))
    posts = [
        (client, confirm_url(withdrawal.pk, "approve"), {"reason": "ok"}),
        (client, decide_url(withdrawal.pk, "approve"), {"reason": "ok", "token": "t"}),
        (admin_client, POLICY, policy_form(retry_limit=9)),
        (client, SET_LANGUAGE, {"language": "tr", "next": "/console/"}),
        (client, LOGOUT, {}),
    ]
    # when any console form is posted without the token, then it is 403 and nothing changes
    with expect_no_change():
        for who, url, data in posts:
            assert who.post(url, data).status_code == 403, url
    assert "django_language" not in client.cookies
    # when the page's token is sent, then the confirmation and the decision go through
    csrf = _csrf_token(client, detail_url(withdrawal.pk))
    page = client.post(confirm_url(withdrawal.pk, "approve"), {"reason": "ok", "csrfmiddlewaretoken": csrf})
    assert page.status_code == 200
    done = execute(client, withdrawal, "approve", token_in(page), reason="ok", HTTP_X_CSRFTOKEN=csrf)
    assert done.status_code == 302 and state_of(withdrawal) == "approved"


def test_the_sign_in_forms_need_the_csrf_token_too(finance, settings):
    settings.OPERATOR_2FA_REQUIRED = True
    browser = Client(enforce_csrf_checks=True)
    credentials = {"username": finance.username, "password": PASSWORD}
    assert browser.post(LOGIN, credentials).status_code == 403
    csrf = _csrf_token(browser, LOGIN)
    assert browser.post(LOGIN, {**credentials, "csrfmiddlewaretoken": csrf}).status_code == 302
    # the second-factor form, reached with the password only, checks it as well
    assert browser.post(OTP_SETUP, {"token": "123456"}).status_code == 403


def test_the_language_switch_redirects_back_to_the_page(finance):
    client = sign_in(finance)
    response = client.post(SET_LANGUAGE, {"language": "tr", "next": POLICY})
    assert response.status_code == 302 and response["Location"] == POLICY
    assert client.cookies["django_language"].value == "tr"


def test_the_superuser_edits_a_chosen_casinos_policy(superuser, other_tenant):
    url = f"{POLICY}?tenant={other_tenant.slug}"
    response = sign_in(superuser).post(url, policy_form(retry_limit=1))
    assert response.status_code == 302 and response["Location"] == url
    assert PaymentPolicy.objects.get(tenant=other_tenant).payout_retry_limit == 1
