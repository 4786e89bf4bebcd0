"""Starting a run and acting on findings from the console: roles, POST-redirect-GET with a message, audit, CSRF."""

import re

import pytest

from backoffice.tests.console.helpers import ADMIN, FINANCE, ROLES, messages_after, sign_in, text_of
from reconciliation.models import Finding, ReconciliationRun

from .books import audited, corrupted_books, nothing_changes
from .helpers import reconcile
from .test_console_page import PAGE, RUN_NOW, act_url

pytestmark = pytest.mark.django_db


def stored(finding) -> tuple:
    row = Finding.objects.get(pk=finding.pk)
    return row.status, row.note, row.acted_by_id


@pytest.fixture
def one(run) -> Finding:
    return Finding.objects.get(run=run, type="paid_withdrawal_event_count")


# --- starting a run ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [FINANCE, ADMIN])
def test_a_run_started_from_the_console_redirects_with_a_message(staff, tenant, other_tenant, books, role):
    corrupted_books(other_tenant)
    user = staff[role]
    client = sign_in(user)
    # when a finance or admin operator presses "Run reconciliation now"
    response = client.post(RUN_NOW)
    # then their casino was reconciled, from the console, and the page says what the run found
    assert (response.status_code, response["Location"]) == (302, PAGE)
    run = ReconciliationRun.objects.get()
    assert (run.tenant_id, run.triggered_by, run.status, run.actor_user_id) == (
        tenant.pk,
        "console",
        "succeeded",
        user.pk,
    )
    assert messages_after(client, response) == [f"Reconciliation run #{run.pk} (Full): 3 findings."]
    assert set(Finding.objects.filter(run=run).values_list("tenant_id", flat=True)) == {tenant.pk}
    (started,) = audited("reconciliation.run_started")
    assert (started.tenant_id, started.actor_user_id, started.data["trigger"]) == (tenant.pk, user.pk, "console")


def test_a_platform_superuser_runs_every_casino_from_the_console(superuser, tenant, other_tenant):
    corrupted_books(tenant), corrupted_books(other_tenant)
    client = sign_in(superuser)
    response = client.post(RUN_NOW)
    run = ReconciliationRun.objects.get()
    assert (run.tenant_id, run.findings_count) == (None, 6)
    assert messages_after(client, response) == [f"Reconciliation run #{run.pk} (Full): 6 findings."]


def test_an_incremental_run_is_asked_for_from_the_console(superuser, tenant, other_tenant):
    # given a full run of every casino that found one casino's books corrupted
    corrupted_books(tenant)
    client = sign_in(superuser)
    client.get(client.post(RUN_NOW)["Location"])  # (its message shown)
    # when the platform asks for an incremental run
    response = client.post(RUN_NOW, {"mode": "incremental"})
    # then the run read only what changed since the first one, and what the first one found
    first, run = ReconciliationRun.objects.order_by("id")
    assert (run.mode, run.stats["since_checkpoint"], run.findings_count) == ("incremental", first.checkpoint.pk, 3)
    assert messages_after(client, response) == [f"Reconciliation run #{run.pk} (Incremental): 3 findings."]
    # and the page lists both runs with their modes
    page = text_of(client.get(PAGE))
    assert f"#{run.pk} " in page and "Incremental" in page and "Full" in page


def test_an_unknown_mode_from_the_console_is_a_message_not_a_run(finance, tenant):
    client = sign_in(finance)
    response = client.post(RUN_NOW, {"mode": "weekly"})
    assert response.status_code == 302
    assert not ReconciliationRun.objects.exists()
    (message,) = messages_after(client, response)
    assert "mode" in message.lower()


def test_a_run_while_another_holds_the_lock_is_refused_with_a_message(finance, tenant, held_lock):
    held_lock(tenant.pk)
    client = sign_in(finance)
    with nothing_changes(audit_actions=("reconciliation.run_refused",)):
        response = client.post(RUN_NOW)
    assert messages_after(client, response) == [
        "Another reconciliation run over this scope is in progress; try again when it has finished."
    ]


def test_the_run_button_only_answers_post(finance):
    client = sign_in(finance)
    with nothing_changes():
        assert client.get(RUN_NOW).status_code == 405


# --- acknowledge and resolve ---------------------------------------------------------------------


@pytest.mark.parametrize("role", [FINANCE, ADMIN])
def test_acknowledge_then_resolve_from_the_console(staff, tenant, one, role):
    user = staff[role]
    client = sign_in(user)
    back = f"{PAGE}?run={one.run_id}&severity=critical"
    # when the operator acknowledges the finding from a filtered page
    response = client.post(act_url(one.pk, "acknowledge"), {"back": back})
    # then they are back on that page, told so, and the finding is acknowledged by them
    assert response["Location"] == back
    assert messages_after(client, response) == [f"Finding #{one.pk} is now Acknowledged."]
    assert stored(one) == ("acknowledged", "", user.pk)
    # and the page offers it for resolving only
    content = client.get(back).content.decode()
    row = re.search(rf'<tr data-finding="{one.pk}">.*?</tr>', content, re.S).group(0)
    assert ">Acknowledge</button>" not in row and ">Resolve</button>" in row
    # when they resolve it with a note
    response = client.post(act_url(one.pk, "resolve"), {"note": "Booked the missing withdraw_paid.", "back": back})
    assert messages_after(client, response) == [f"Finding #{one.pk} is now Resolved."]
    assert stored(one) == ("resolved", "Booked the missing withdraw_paid.", user.pk)
    # then both acts are audited under the casino, and the page shows the note without forms
    acts = [
        (e.action, e.before_state, e.after_state, e.reason, e.tenant_id, e.actor_user_id)
        for e in audited("reconciliation.finding_acknowledged") + audited("reconciliation.finding_resolved")
    ]
    assert acts == [
        ("reconciliation.finding_acknowledged", "open", "acknowledged", "", tenant.pk, user.pk),
        (
            "reconciliation.finding_resolved",
            "acknowledged",
            "resolved",
            "Booked the missing withdraw_paid.",
            tenant.pk,
            user.pk,
        ),
    ]
    row = re.search(rf'<tr data-finding="{one.pk}">.*?</tr>', client.get(back).content.decode(), re.S).group(0)
    assert "Booked the missing withdraw_paid." in row and "<form" not in row


def test_resolving_without_a_note_changes_nothing_and_says_why(finance, one):
    client = sign_in(finance)
    with nothing_changes():
        response = client.post(act_url(one.pk, "resolve"), {"note": "   "})
    assert messages_after(client, response) == ["Give a reason for this decision."]
    assert stored(one) == ("open", "", None)


def test_a_resolved_finding_cannot_be_acknowledged_and_resolving_it_again_changes_nothing(finance, one):
    client = sign_in(finance)
    assert messages_after(client, client.post(act_url(one.pk, "resolve"), {"note": "Fixed."})) == [
        f"Finding #{one.pk} is now Resolved."
    ]
    with nothing_changes():
        refused = messages_after(client, client.post(act_url(one.pk, "acknowledge")))
        again = messages_after(client, client.post(act_url(one.pk, "resolve"), {"note": "Fixed again."}))
    assert refused == ["A resolved finding cannot become acknowledged."]
    assert again == [f"Finding #{one.pk} is now Resolved."]
    assert stored(one) == ("resolved", "Fixed.", finance.pk)


def test_a_viewer_may_not_run_or_act(viewer, one):
    client = sign_in(viewer)
    with nothing_changes():
        for url, data in (
            (RUN_NOW, {}),
            (act_url(one.pk, "acknowledge"), {}),
            (act_url(one.pk, "resolve"), {"note": "n"}),
        ):
            assert client.post(url, data).status_code == 403, url
    assert stored(one) == ("open", "", None)


@pytest.mark.parametrize("role", ROLES)
def test_another_casinos_finding_is_not_found(staff, other_tenant, role):
    corrupted_books(other_tenant)
    finding = Finding.objects.filter(run=reconcile(other_tenant)).first()
    client = sign_in(staff[role])
    with nothing_changes():
        for act, data in (("acknowledge", {}), ("resolve", {"note": "mine"}), ("resolve", {})):
            assert client.post(act_url(finding.pk, act), data).status_code == 404, (act, data)
    assert stored(finding) == ("open", "", None)


def test_unknown_findings_and_acts_are_not_found(finance, one):
    client = sign_in(finance)
    with nothing_changes():
        for finding_id, act in ((one.pk + 1000, "acknowledge"), ("abc", "resolve"), (one.pk, "delete")):
            assert client.post(act_url(finding_id, act), {"note": "n"}).status_code == 404, (finding_id, act)


def test_the_way_back_stays_on_this_site(finance, one):
    client = sign_in(finance)
    response = client.post(act_url(one.pk, "acknowledge"), {"back": "https://evil.example/phish"})
    assert (response.status_code, response["Location"]) == (302, PAGE)
    assert stored(one)[0] == "acknowledged"


def test_every_post_needs_the_csrf_token(finance, one):
    # given a fully signed-in browser that enforces CSRF, as real ones do
    client = sign_in(finance, enforce_csrf_checks=True)
    posts = [(RUN_NOW, {}), (act_url(one.pk, "acknowledge"), {}), (act_url(one.pk, "resolve"), {"note": "Fixed."})]
    # when a form is posted without the token, then 403 and nothing changes
    with nothing_changes():
        for url, data in posts:
            assert client.post(url, data).status_code == 403, url
    # when the page's token is sent, then each goes through
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(PAGE).content.decode()).group(1)
    for url, data in posts:
        assert client.post(url, {**data, "csrfmiddlewaretoken": csrf}).status_code == 302, url
    assert stored(one) == ("resolved", "Fixed.", finance.pk)
    assert ReconciliationRun.objects.filter(triggered_by="console").count() == 1


@pytest.mark.parametrize("odd", ["²", "1²", "9" * 40])
def test_odd_ids_in_the_reconciliation_page_are_not_found_never_a_server_error(finance, odd):
    client = sign_in(finance)
    assert client.get(f"/console/reconciliation/?run={odd}").status_code == 200
    assert client.post(f"/console/reconciliation/findings/{odd}/acknowledge/", {}).status_code == 404
