"""URLs, signed-in clients and checks shared by the console tests (test client and browser)."""

import html
import re

from django.db.models import Max
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditEvent, FormToken
from wallet.models import Withdrawal, WithdrawalApproval
from wallet.tests.builders import REASON
from wallet.tests.staff import (  # noqa: F401 - the tests import these from here
    ADMIN,
    DECISIONS,
    FINANCE,
    PASSWORD,
    ROLES,
    VIEWER,
    operator_user,
    platform_superuser,
)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


LOGIN = "/console/login/"
LOGOUT = "/console/logout/"
OTP = "/console/login/second-factor/"
OTP_SETUP = "/console/login/second-factor/setup/"
QUEUE = "/console/withdrawals/"
POLICY = "/console/policy/"
AUDIT = "/console/audit/"
API_TOKENS = "/console/api-tokens/"
SET_LANGUAGE = "/i18n/setlang/"


def detail_url(withdrawal_id) -> str:
    return f"{QUEUE}{withdrawal_id}/"


def confirm_url(withdrawal_id, decision: str) -> str:
    return f"{QUEUE}{withdrawal_id}/{decision}/confirm/"


def decide_url(withdrawal_id, decision: str) -> str:
    return f"{QUEUE}{withdrawal_id}/{decision}/"


def snapshot_url(tx_id) -> str:
    return f"/console/transactions/{tx_id}/"


def sign_in(user, *, second_factor: bool = True, enforce_csrf_checks: bool = False) -> Client:
    """A test client with the user's console session; with a verified TOTP device unless told not to."""
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.force_login(user, backend=MODEL_BACKEND)
    if second_factor:
        device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


_TOKEN = re.compile(r'name="token" value="([^"]+)"')


def token_in(response) -> str:
    match = _TOKEN.search(response.content.decode())
    assert match, "the confirmation page carries no one-time token"
    return match.group(1)


def confirm(client, withdrawal, decision: str, reason: str = REASON):
    """Step two of a decision: the confirmation page (it issues the one-time token)."""
    return client.post(confirm_url(withdrawal.pk, decision), {"reason": reason})


def execute(client, withdrawal, decision: str, token: str, reason: str = REASON, **kwargs):
    """Step three: the confirmed POST that spends the token and acts."""
    return client.post(decide_url(withdrawal.pk, decision), {"token": token, "reason": reason}, **kwargs)


def decide(client, withdrawal, decision: str, reason: str = REASON):
    """Confirm and execute one decision; returns the execute response (a redirect)."""
    page = confirm(client, withdrawal, decision, reason)
    assert page.status_code == 200, page.content[:500]
    return execute(client, withdrawal, decision, token_in(page), reason)


def messages_after(client, response) -> list[str]:
    """The messages the redirect target shows (POST-redirect-GET)."""
    assert response.status_code == 302, response.status_code
    page = client.get(response["Location"])
    return [str(message) for message in page.context["messages"]]


def text_of(response) -> str:
    """The page's text with tags removed and entities decoded, for phrase checks."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def state_of(withdrawal) -> str:
    return Withdrawal.objects.values_list("state", flat=True).get(pk=withdrawal.pk)


def approvers_of(withdrawal) -> list[int]:
    rows = WithdrawalApproval.objects.filter(withdrawal_id=withdrawal.pk).order_by("id")
    return list(rows.values_list("operator_id", flat=True))


def last_audit_id() -> int:
    return AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0


def audit_since(mark: int, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=mark, **filters).order_by("id"))


def token_is_spent(token: str) -> bool:
    return FormToken.objects.get(token=token).used_at is not None
