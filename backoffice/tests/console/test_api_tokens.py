"""The console's API tokens page: make (after the second factor), shown once, listed, revoked; all audited."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from backoffice.templatetags.console import when
from tenants.models import OperatorToken
from wallet.tests.api.helpers import assert_problem
from wallet.tests.builders import withdrawal_in_state

from .helpers import OTP, audit_since, last_audit_id, messages_after, sign_in, text_of

pytestmark = pytest.mark.django_db

PAGE = "/console/api-tokens/"
OPERATOR_QUEUE = "/api/v1/admin/withdrawals/"


def revoke_url(token_id) -> str:
    return f"{PAGE}{token_id}/revoke/"


def make_token(client, name="month-end report"):
    """Open the page (it issues the form's one-time token) and submit the form."""
    page = client.get(PAGE)
    once = re.search(r'name="form_token" value="([^"]+)"', page.content.decode()).group(1)
    return client.post(PAGE, {"name": name, "form_token": once}), once


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def shown_key(response) -> str | None:
    match = re.search(r'data-testid="new-key-value">([^<]+)<', response.content.decode())
    return match.group(1) if match else None


def test_an_operator_makes_a_token_whose_key_is_shown_once(finance, tenant):
    client = sign_in(finance)
    mark = last_audit_id()
    # when the operator makes a token named "month-end report"
    response, _once = make_token(client)
    assert response.status_code == 302 and response["Location"] == PAGE
    # then the page it leads to shows the key once, with the header scripts send
    page = client.get(PAGE)
    key = shown_key(page)
    assert key and key.startswith("op_")
    assert f"Authorization: Token {key}" in text_of(page)
    assert "API token “month-end report” made." in [str(m) for m in page.context["messages"]]
    # and never again
    assert shown_key(client.get(PAGE)) is None and key not in client.get(PAGE).content.decode()
    # and the key opens the operator API
    assert api(key).get(OPERATOR_QUEUE).status_code == 200
    # and the making is audited as the operator's act
    [event] = audit_since(mark, action__startswith="operator_token.")
    assert (event.action, event.tenant_id, event.actor_user_id) == ("operator_token.created", tenant.pk, finance.pk)


def test_the_list_shows_name_key_prefix_made_last_used_and_expiry(finance, tenant, settings):
    settings.OPERATOR_TOKEN_DAYS = 30
    client = sign_in(finance)
    make_token(client, "report script")
    client.get(PAGE)  # the page that shows the key
    token = OperatorToken.objects.get()
    page = client.get(PAGE)
    row = re.search(rf'<tr data-token-id="{token.pk}">(.*?)</tr>', page.content.decode(), re.S).group(1)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    assert "report script" in text and f"{token.prefix}…" in text
    # times as everywhere in the console: in the casino's zone, named ("29 Nov 2026, 22:48:17 CET")
    with timezone.override(tenant.time_zone):
        assert when(token.created_at) in text and when(token.expires_at) in text
    assert "never" in text and "expired" not in text
    assert "expires 30 days after it is made" in text_of(page)
    # once used and once past its expiry, the list says so
    OperatorToken.objects.update(last_used_at=timezone.now(), expires_at=timezone.now() - timedelta(minutes=1))
    text = text_of(client.get(PAGE))
    assert "never" not in text and "expired" in text


def test_revoking_in_the_console_makes_the_key_401_and_is_audited(finance, tenant):
    client = sign_in(finance)
    make_token(client)
    key = shown_key(client.get(PAGE))
    token = OperatorToken.objects.get()
    mark = last_audit_id()
    # when the operator revokes it
    response = client.post(revoke_url(token.pk))
    # then it is gone from the list, the key is refused and the revocation audited
    assert messages_after(client, response) == ["API token “month-end report” revoked: it opens nothing any more."]
    assert not OperatorToken.objects.exists()
    assert_problem(api(key).get(OPERATOR_QUEUE), 401, "AUTHENTICATION_REQUIRED")
    [event] = audit_since(mark)
    assert (event.action, event.tenant_id, event.target_id) == ("operator_token.revoked", tenant.pk, str(token.pk))


def test_another_operator_can_neither_see_nor_revoke_your_token(finance, finance2):
    owner = sign_in(finance)
    make_token(owner, "finance's script")
    key = shown_key(owner.get(PAGE))
    token = OperatorToken.objects.get()
    intruder = sign_in(finance2)
    mark = last_audit_id()
    # the other operator's page does not list it
    assert "finance's script" not in text_of(intruder.get(PAGE))
    # and revoking it by id is 404: nothing revoked, nothing audited, the key still works
    assert intruder.post(revoke_url(token.pk)).status_code == 404
    assert OperatorToken.objects.filter(pk=token.pk).exists()
    assert audit_since(mark) == []
    assert api(key).get(OPERATOR_QUEUE).status_code == 200


def test_revoking_twice_is_404_the_second_time(finance):
    client = sign_in(finance)
    make_token(client)
    token = OperatorToken.objects.get()
    assert client.post(revoke_url(token.pk)).status_code == 302
    assert client.post(revoke_url(token.pk)).status_code == 404


def test_without_the_second_factor_no_token_is_made(finance):
    # given a session past the password but not the second factor (required, the production default)
    client = sign_in(finance, second_factor=False)
    # when it opens the page or posts the form, then it is sent to the second factor and nothing is made
    page = client.get(PAGE)
    assert page.status_code == 302 and page["Location"].startswith(OTP)
    response = client.post(PAGE, {"name": "sneaky", "form_token": "x"})
    assert response.status_code == 302 and response["Location"].startswith(OTP)
    assert not OperatorToken.objects.exists()


def test_without_the_second_factor_no_token_is_revoked(finance):
    key_owner = sign_in(finance)
    make_token(key_owner)
    token = OperatorToken.objects.get()
    half_signed_in = sign_in(finance, second_factor=False)
    response = half_signed_in.post(revoke_url(token.pk))
    assert response.status_code == 302 and response["Location"].startswith(OTP)
    assert OperatorToken.objects.filter(pk=token.pk).exists()


def test_a_form_sent_twice_makes_one_token(finance):
    client = sign_in(finance)
    response, once = make_token(client)
    again = client.post(PAGE, {"name": "month-end report", "form_token": once})
    # (a double click: the second POST comes before the first one's page)
    assert "This form was already submitted; it was not done twice." in messages_after(client, again)
    assert OperatorToken.objects.count() == 1


def test_a_nameless_token_is_refused_with_the_form_kept(finance):
    client = sign_in(finance)
    response, _once = make_token(client, "   ")
    assert response.status_code == 200 and response.context["form"].errors["name"]
    assert not OperatorToken.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "finance", "admin"])
def test_every_role_may_hold_tokens_and_the_api_applies_the_role(role, staff, player):
    client = sign_in(staff[role])
    make_token(client)
    key = shown_key(client.get(PAGE))
    requested = withdrawal_in_state("requested", player=player)
    assert api(key).get(OPERATOR_QUEUE).status_code == 200
    decision = api(key).post(
        f"{OPERATOR_QUEUE}{requested.pk}/approve/", {"reason": "ok"}, format="json", HTTP_IDEMPOTENCY_KEY=f"k-{role}"
    )
    assert decision.status_code == (403 if role == "viewer" else 200)


def test_a_platform_superuser_has_the_page_too(superuser):
    client = sign_in(superuser)
    make_token(client)
    key = shown_key(client.get(PAGE))
    assert api(key).get(OPERATOR_QUEUE).status_code == 200
