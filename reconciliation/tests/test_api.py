"""The reconciliation operator API: who may run, read and act; what a run over clean and corrupted books shows.

Books are corrupted with raw SQL (books.py); the shared fixtures are in this folder's
conftest, operators by role in the root conftest. Findings, their
filters and the acts on them are in test_api_findings.py; the platform, tenant isolation and
the one-run-per-scope lock in test_api_scope.py.
"""

import pytest
from rest_framework.test import APIClient

from backoffice.tests.api.helpers import ADMIN_API, DECIDING_ROLES, ROLES, as_operator, body_of
from players.tests.factories import PlayerFactory
from reconciliation.models import Finding, ReconciliationRun
from wallet.tests.api.helpers import assert_problem, assert_validation_error, client_for
from wallet.tests.builders import deposit_in_state, withdrawal_in_state

from .books import audited, corrupted_books, nothing_changes, seen

pytestmark = pytest.mark.django_db

RUNS = f"{ADMIN_API}/reconciliation/runs/"
SUMMARY = f"{ADMIN_API}/reconciliation/summary/"


def findings_url(run_id, query: str = "") -> str:
    return f"{RUNS}{run_id}/findings/{query}"


def act_url(finding_id, act: str) -> str:
    return f"{ADMIN_API}/reconciliation/findings/{finding_id}/{act}/"


# --- who may do what -----------------------------------------------------------------------------

ENDPOINTS = {
    "start a run": ("post", lambda f: RUNS, {}),
    "summary": ("get", lambda f: SUMMARY, None),
    "findings": ("get", lambda f: findings_url(f.run_id), None),
    "acknowledge": ("post", lambda f: act_url(f.pk, "acknowledge"), {"note": "on it"}),
    "resolve": ("post", lambda f: act_url(f.pk, "resolve"), {"note": "fixed"}),
}
ACTS = ("start a run", "acknowledge", "resolve")


def send(client, endpoint: str, finding: Finding):
    method, url, body = ENDPOINTS[endpoint]
    if method == "get":
        return client.get(url(finding))
    return client.post(url(finding), body, format="json")


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_summary_and_the_findings(staff, books, run, role):
    # given a run over the casino's corrupted books
    client = as_operator(staff[role])
    # when any operator of the casino reads the summary and the run's findings
    summary, findings = client.get(SUMMARY), client.get(findings_url(run.pk))
    # then both answer 200 with what the run found
    assert summary.status_code == findings.status_code == 200, (summary.content, findings.content)
    assert body_of(summary)["last_succeeded"]["id"] == run.pk
    assert body_of(summary)["by_severity"] == {"critical": 2, "medium": 1}
    assert seen(body_of(findings)["results"]) == books.expected


@pytest.mark.parametrize("endpoint", ACTS)
def test_a_viewer_may_not_start_runs_or_act(viewer, run, endpoint):
    # given a viewer of the casino and an open finding
    finding = Finding.objects.filter(run=run).first()
    # when the viewer starts a run, acknowledges or resolves, then 403 PERMISSION_DENIED naming the role
    with nothing_changes():
        body = assert_problem(send(as_operator(viewer), endpoint, finding), 403, "PERMISSION_DENIED")
    assert "viewer" in body["detail"]


def test_a_viewer_resolving_without_a_note_is_still_refused_for_the_role(viewer, run):
    # the role is checked before the note: a viewer learns it may not act, not how to fill the form
    finding = Finding.objects.filter(run=run).first()
    with nothing_changes():
        assert_problem(
            as_operator(viewer).post(act_url(finding.pk, "resolve"), {}, format="json"), 403, "PERMISSION_DENIED"
        )


@pytest.mark.parametrize("role", DECIDING_ROLES)
def test_finance_and_admin_start_a_run_of_their_casino(staff, tenant, other_tenant, books, role):
    # given corrupted books here and in another casino
    corrupted_books(other_tenant)
    user = staff[role]
    # when a finance or admin operator starts a run (naming another casino changes nothing for them)
    response = as_operator(user).post(RUNS, {"tenant": other_tenant.slug}, format="json")
    # then 201: a succeeded run of their casino only, started from the API, with its counts
    assert response.status_code == 201, response.content
    body = body_of(response)
    stored = ReconciliationRun.objects.get()
    assert (body["id"], body["tenant"], body["status"], body["triggered_by"]) == (
        stored.pk,
        tenant.slug,
        "succeeded",
        "api",
    )
    assert (stored.tenant_id, stored.actor_type, stored.actor_user_id) == (tenant.pk, "operator", user.pk)
    assert (body["findings_count"], body["open_count"]) == (3, 3)
    assert body["counts_by_severity"] == {"critical": 2, "medium": 1}
    assert set(Finding.objects.filter(run=stored).values_list("tenant_id", flat=True)) == {tenant.pk}
    # and its start and end are audited under the casino, as the operator's acts
    for action in ("reconciliation.run_started", "reconciliation.run_succeeded"):
        (event,) = audited(action)
        assert (event.tenant_id, event.actor_user_id, event.target_id) == (tenant.pk, user.pk, str(stored.pk))


def test_a_clean_casino_gives_a_succeeded_run_with_no_findings(finance, tenant):
    # given a casino whose books agree: a paid withdrawal, one awaiting review, a completed deposit
    player = PlayerFactory(tenant=tenant)
    for state in ("paid", "requested"):
        withdrawal_in_state(state, player=player)
    deposit_in_state("completed", player=player)
    client = as_operator(finance)
    # when a run is started
    response = client.post(RUNS, {}, format="json")
    # then it succeeded and found nothing, and the summary and findings say so
    assert response.status_code == 201, response.content
    body = body_of(response)
    assert (body["status"], body["findings_count"], body["counts_by_type"], body["error"]) == ("succeeded", 0, {}, "")
    summary = body_of(client.get(SUMMARY))
    assert (summary["latest"]["id"], summary["running"], summary["by_type"], summary["oldest_open_since"]) == (
        body["id"],
        None,
        {},
        None,
    )
    assert body_of(client.get(findings_url(body["id"]))) == {"count": 0, "page": 1, "pages": 1, "results": []}


def test_a_run_can_compare_a_settlement_day_given_as_a_date(finance, tenant):
    client = as_operator(finance)
    # a day that is not a date is refused, and nothing runs
    with nothing_changes():
        assert_validation_error(client.post(RUNS, {"settlement_date": "yesterday"}, format="json"), "settlement_date")
        # nor is a day that has not begun (the last date there is included: it was a 500)
        for later in ("2999-01-01", "9999-12-31"):
            assert_validation_error(client.post(RUNS, {"settlement_date": later}, format="json"), "settlement_date")
    # a date is compared (this casino has no PSP account, so no report and nothing to disagree about)
    response = client.post(RUNS, {"settlement_date": "2026-11-20"}, format="json")
    assert response.status_code == 201, response.content
    assert (body_of(response)["settlement_date"], body_of(response)["findings_count"]) == ("2026-11-20", 0)
    assert str(ReconciliationRun.objects.get().settlement_date) == "2026-11-20"


def test_a_run_can_be_asked_for_incrementally(finance, superuser, tenant, books):
    # given a full run of every casino (the platform's), which left a checkpoint
    platform = as_operator(superuser)
    first = body_of(platform.post(RUNS, {}, format="json"))
    assert first["mode"] == "full"
    client = as_operator(finance)
    # a mode that is not one is refused, and nothing runs
    with nothing_changes():
        assert_validation_error(client.post(RUNS, {"mode": "weekly"}, format="json"), "mode")
    # when the casino's finance asks for an incremental run
    response = client.post(RUNS, {"mode": "incremental"}, format="json")
    # then it read what changed since the checkpoint, and the casino's findings there are the same
    assert response.status_code == 201, response.content
    body = body_of(response)
    assert (body["mode"], body["tenant"], body["findings_count"]) == ("incremental", tenant.slug, 3)
    assert ReconciliationRun.objects.get(pk=body["id"]).stats["since_checkpoint"] is not None
    assert body_of(client.get(SUMMARY))["latest"]["mode"] == "incremental"


def test_corrupted_books_are_reported_with_what_was_expected_and_found(finance, books):
    client = as_operator(finance)
    # when a run is started over books that disagree
    run_id = body_of(client.post(RUNS, {}, format="json"))["id"]
    # then each disagreement is a finding, open, naming the object, the expected and the actual value
    results = {r["type"]: r for r in body_of(client.get(findings_url(run_id)))["results"]}
    assert seen(results.values()) == books.expected
    wallet = results["wallet_available_mismatch"]
    assert (wallet["expected"], wallet["actual"], wallet["detail"]["difference"]) == (
        books.wallet.balance_available - 1,
        books.wallet.balance_available,
        1,
    )
    paid = results["paid_withdrawal_event_count"]
    assert (paid["expected"], paid["actual"], paid["detail"]["transaction_id"]) == (1, 0, str(books.withdrawal.pk))
    assert results["stuck_deposit"]["detail"]["transaction_id"] == str(books.deposit.pk)
    assert {(r["status"], r["run"], r["note"], r["acted_by"]) for r in results.values()} == {("open", run_id, "", "")}


def test_a_player_token_is_refused_everywhere(books, run):
    finding = Finding.objects.filter(run=run).first()
    client = client_for(books.withdrawal.player)
    # when a player of the casino calls any reconciliation endpoint with their token, then 401: no operator token
    with nothing_changes():
        for endpoint in ENDPOINTS:
            assert_problem(send(client, endpoint, finding), 401, "AUTHENTICATION_REQUIRED")


def test_no_token_or_a_bad_token_is_401(run):
    finding = Finding.objects.filter(run=run).first()
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    with nothing_changes():
        for client in (APIClient(), bad):
            for endpoint in ENDPOINTS:
                response = send(client, endpoint, finding)
                assert_problem(response, 401, "AUTHENTICATION_REQUIRED")
                assert response["WWW-Authenticate"].startswith("Token")
