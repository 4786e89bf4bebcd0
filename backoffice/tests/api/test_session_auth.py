"""Browser sessions from the console are credentials for the operator API too.

They must be the console's full sign-in (password, then the TOTP second factor), and
unsafe methods must carry the CSRF token (DRF's SessionAuthentication enforces it).
"""

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from wallet.tests.api.helpers import assert_problem, new_key
from wallet.tests.builders import REASON, withdrawal_in_state
from wallet.tests.invariants import expect_no_change

from .helpers import POLICY, QUEUE, audit_since, body_of, decision_url, last_audit_id, state_of

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tenants.tests.factories.UserFactory


def _sign_in(user, *, second_factor: bool = True) -> APIClient:
    """The console's sign-in as a browser does it: CSRF-checked forms, password, then TOTP."""
    client = APIClient(enforce_csrf_checks=True)
    client.get("/console/login/")
    response = client.post(
        "/console/login/",
        {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": _csrf(client)},
    )
    assert response.status_code == 302, response.content[:300]
    if second_factor:
        device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
        response = client.post(
            "/console/login/second-factor/", {"token": f"{code:06d}", "csrfmiddlewaretoken": _csrf(client)}
        )
        assert response.status_code == 302, response.content[:300]
    return client


def _csrf(client) -> str:
    return client.cookies["csrftoken"].value


def _approve(client, withdrawal, **headers):
    return client.post(
        decision_url(withdrawal.pk, "approve"),
        {"reason": REASON},
        format="json",
        HTTP_IDEMPOTENCY_KEY=new_key(),
        **headers,
    )


def test_a_fully_signed_in_console_session_reads_and_decides(finance, player):
    # given an operator signed in to the console with password and second factor
    withdrawal = withdrawal_in_state("requested", player=player)
    mark = last_audit_id()
    client = _sign_in(finance)
    assert [e.action for e in audit_since(mark, action__startswith="operator.")] == ["operator.login"]
    # when the session reads the queue, then it works without a token
    response = client.get(QUEUE)
    assert response.status_code == 200, response.content
    assert [row["id"] for row in body_of(response)["results"]] == [str(withdrawal.pk)]
    # when it approves with the CSRF token, then the withdrawal is approved by that operator
    response = _approve(client, withdrawal, HTTP_X_CSRFTOKEN=_csrf(client))
    assert response.status_code == 200, response.content
    assert state_of(withdrawal) == "approved"
    (event,) = audit_since(mark, action="withdrawal.approved")
    assert event.actor_user_id == finance.pk


def test_an_unsafe_request_without_the_csrf_token_is_refused(finance, admin, player):
    # given a fully signed-in session and a withdrawal awaiting review
    withdrawal = withdrawal_in_state("requested", player=player)
    client = _sign_in(finance)
    # when it POSTs a decision without the CSRF token (or with a wrong one), then 403 and nothing changes
    for headers in ({}, {"HTTP_X_CSRFTOKEN": "x" * 32}):
        with expect_no_change():
            body = assert_problem(_approve(client, withdrawal, **headers), 403, "PERMISSION_DENIED")
        assert "CSRF" in body["detail"]
    assert state_of(withdrawal) == "requested"
    # and an admin's PUT of the policy without it is refused as well
    admin_client = _sign_in(admin)
    policy = {"payout_retry_limit": 9, "payout_cooldown_seconds": 0, "currency_limits": []}
    with expect_no_change():
        response = admin_client.put(POLICY, policy, format="json")
    assert_problem(response, 403, "PERMISSION_DENIED")
    assert body_of(admin_client.get(POLICY))["payout_retry_limit"] == 3


def test_a_password_only_session_is_not_an_operator_credential(finance, player):
    # given an operator who typed the password but not yet the second factor
    withdrawal = withdrawal_in_state("requested", player=player)
    client = _sign_in(finance, second_factor=False)
    # when that half-signed-in session calls the API, then it is refused like the console refuses it
    assert_problem(client.get(QUEUE), 403, "PERMISSION_DENIED")
    with expect_no_change():
        assert_problem(_approve(client, withdrawal, HTTP_X_CSRFTOKEN=_csrf(client)), 403, "PERMISSION_DENIED")


def test_without_required_second_factor_a_password_session_is_enough(settings, finance, player):
    # given a deployment that does not require the second factor (OPERATOR_2FA_REQUIRED=0)
    settings.OPERATOR_2FA_REQUIRED = False
    withdrawal = withdrawal_in_state("requested", player=player)
    client = _sign_in(finance, second_factor=False)
    # then the password session works, CSRF still applies
    assert client.get(QUEUE).status_code == 200
    assert_problem(_approve(client, withdrawal), 403, "PERMISSION_DENIED")
    assert _approve(client, withdrawal, HTTP_X_CSRFTOKEN=_csrf(client)).status_code == 200


def test_a_player_session_is_not_an_operator_credential(player):
    # given a player logged in to a browser session
    client = APIClient()
    client.force_login(player.user)
    # then the operator API refuses it
    assert_problem(client.get(QUEUE), 403, "PERMISSION_DENIED")
