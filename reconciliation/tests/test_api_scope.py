"""The operator API across casinos: the platform's runs, tenant isolation, and one run per scope at a time."""

import pytest

from backoffice.tests.api.helpers import ROLES, as_operator, body_of
from reconciliation.models import Finding, ReconciliationRun
from wallet.tests.api.helpers import assert_problem, assert_validation_error

from .books import audited, corrupted_books, nothing_changes, seen
from .helpers import reconcile
from .test_api import RUNS, SUMMARY, act_url, findings_url

pytestmark = pytest.mark.django_db


# --- the platform --------------------------------------------------------------------------------


def test_a_platform_superuser_runs_one_casino_or_all_of_them(superuser, tenant, other_tenant):
    # given corrupted books in two casinos
    here, there = corrupted_books(tenant), corrupted_books(other_tenant)
    client = as_operator(superuser)
    # when the superuser runs one casino by its slug
    one = body_of(client.post(RUNS, {"tenant": other_tenant.slug}, format="json"))
    # then only that casino was checked
    assert (one["tenant"], one["findings_count"]) == (other_tenant.slug, 3)
    assert seen(body_of(client.get(findings_url(one["id"])))["results"]) == there.expected
    # when they run without naming a casino, then every casino is checked in one run
    response = client.post(RUNS, {}, format="json")
    assert response.status_code == 201, response.content
    every = body_of(response)
    assert (every["tenant"], every["findings_count"]) == (None, 6)
    assert ReconciliationRun.objects.get(pk=every["id"]).tenant_id is None
    page = body_of(client.get(findings_url(every["id"])))
    assert seen(page["results"]) == here.expected | there.expected
    assert {r["tenant"] for r in page["results"]} == {tenant.pk, other_tenant.pk}
    # and the platform's summary counts every casino
    assert body_of(client.get(SUMMARY))["by_severity"] == {"critical": 4, "medium": 2}
    assert [(e.tenant_id, e.data["scope"]) for e in audited("reconciliation.run_started")] == [
        (other_tenant.pk, f"tenant:{other_tenant.pk}"),
        (None, "all"),
    ]


def test_a_platform_superuser_naming_an_unknown_casino_is_refused(superuser):
    with nothing_changes():
        response = as_operator(superuser).post(RUNS, {"tenant": "no-such-casino"}, format="json")
    assert_validation_error(response, "tenant")


def test_a_platform_superuser_acts_on_any_casinos_finding(superuser, run):
    finding = Finding.objects.filter(run=run).first()
    response = as_operator(superuser).post(act_url(finding.pk, "acknowledge"), {}, format="json")
    assert response.status_code == 200, response.content
    assert Finding.objects.get(pk=finding.pk).status == "acknowledged"


# --- tenant isolation ----------------------------------------------------------------------------


def test_another_casinos_run_is_not_found_and_its_findings_never_listed(finance, other_tenant):
    # given a run of another casino with findings
    corrupted_books(other_tenant)
    foreign = reconcile(other_tenant)
    client = as_operator(finance)
    # when an operator here asks for that run's findings, then it does not exist for them
    assert_problem(client.get(findings_url(foreign.pk)), 404, "NOT_FOUND")
    assert_problem(client.get(findings_url(foreign.pk, "?status=open")), 404, "NOT_FOUND")
    # and their summary knows no run
    summary = body_of(client.get(SUMMARY))
    assert (summary["latest"], summary["last_succeeded"], summary["by_type"]) == (None, None, {})


@pytest.mark.parametrize("act", ["acknowledge", "resolve"])
@pytest.mark.parametrize("role", ROLES)
def test_another_casinos_finding_is_not_found_for_every_role(staff, other_tenant, role, act):
    # given an open finding of another casino
    corrupted_books(other_tenant)
    finding = Finding.objects.filter(run=reconcile(other_tenant)).first()
    # when any operator here acts on it (with or without a note), then 404 and nothing changes
    client = as_operator(staff[role])
    with nothing_changes():
        for body in ({"note": "mine now"}, {}):
            assert_problem(client.post(act_url(finding.pk, act), body, format="json"), 404, "NOT_FOUND")


def test_an_all_casinos_run_shows_each_casino_only_its_own_findings_and_counts(staff, tenant, other_tenant):
    # given corrupted books in two casinos (twice as many findings in the other one) and a nightly-style run
    books = corrupted_books(tenant)
    corrupted_books(other_tenant), corrupted_books(other_tenant)
    everyone = reconcile()
    assert everyone.findings_count == 9
    for role in ROLES:
        client = as_operator(staff[role])
        # when an operator here lists the run's findings, then only this casino's are listed
        page = body_of(client.get(findings_url(everyone.pk)))
        assert (page["count"], seen(page["results"])) == (3, books.expected)
        assert {r["tenant"] for r in page["results"]} == {tenant.pk}
        # and the summary counts only this casino's findings
        summary = body_of(client.get(SUMMARY))
        assert summary["last_succeeded"]["id"] == everyone.pk
        assert summary["by_severity"] == {"critical": 2, "medium": 1}
        assert summary["by_status"] == {"open": 3}
        assert summary["by_type"] == {
            "paid_withdrawal_event_count": 1,
            "stuck_deposit": 1,
            "wallet_available_mismatch": 1,
        }


def test_the_runs_in_the_summary_count_only_the_casinos_findings(finance, tenant, other_tenant):
    # given an all-casinos run that found 3 things here and 6 in another casino
    corrupted_books(tenant), corrupted_books(other_tenant), corrupted_books(other_tenant)
    everyone = reconcile()
    # when an operator here reads the summary, then the run it shows counts this casino's findings only
    summary = body_of(as_operator(finance).get(SUMMARY))
    for name in ("latest", "last_succeeded"):
        shown = summary[name]
        assert (shown["id"], shown["tenant"]) == (everyone.pk, None)
        assert (shown["findings_count"], shown["open_count"]) == (3, 3), shown
        assert shown["counts_by_severity"] == {"critical": 2, "medium": 1}
        assert sum(shown["counts_by_type"].values()) == 3


def test_open_in_a_run_seen_by_a_casino_means_not_acted_on_when_the_run_ended(finance, tenant, other_tenant):
    # given an all-casinos run that found 3 things here and 3 in another casino
    corrupted_books(tenant), corrupted_books(other_tenant)
    first = reconcile()
    client = as_operator(finance)
    mine = Finding.objects.filter(run=first, tenant=tenant).order_by("id").first()
    # when one of this casino's findings is acknowledged after the run
    assert client.post(act_url(mine.pk, "acknowledge"), {}, format="json").status_code == 200
    # then the run still had 3 open when it ended, like the stored count of a casino's own run
    summary = body_of(client.get(SUMMARY))
    assert (summary["last_succeeded"]["open_count"], summary["by_status"]) == (3, {"acknowledged": 1, "open": 2})
    # and the next all-casinos run, which carries the acknowledgement over, ends with 2 open here
    second = reconcile()
    assert second.open_count == 5
    shown = body_of(client.get(SUMMARY))["last_succeeded"]
    assert (shown["id"], shown["findings_count"], shown["open_count"]) == (second.pk, 3, 2)


# --- one run per scope at a time -----------------------------------------------------------------


def test_a_run_while_another_holds_the_casinos_lock_is_409(finance, tenant, held_lock):
    # given another session running reconciliation over this casino's books
    held_lock(tenant.pk)
    # when an operator starts a run, then 409 and no run, but the refusal is audited
    with nothing_changes(audit_actions=("reconciliation.run_refused",)):
        response = as_operator(finance).post(RUNS, {}, format="json")
    body = assert_problem(response, 409, "RECONCILIATION_RUN_IN_PROGRESS")
    assert body["scope"] == f"tenant:{tenant.pk}"
    (refused,) = audited("reconciliation.run_refused")
    assert (refused.tenant_id, refused.actor_user_id, refused.data["trigger"]) == (tenant.pk, finance.pk, "api")


def test_another_casinos_run_in_progress_blocks_all_casinos_runs_only(finance, superuser, other_tenant, held_lock):
    # given another session reconciling another casino
    held_lock(other_tenant.pk)
    # then this casino's run goes ahead, and an all-casinos run is refused
    assert as_operator(finance).post(RUNS, {}, format="json").status_code == 201
    with nothing_changes(audit_actions=("reconciliation.run_refused",)):
        response = as_operator(superuser).post(RUNS, {}, format="json")
    assert assert_problem(response, 409, "RECONCILIATION_RUN_IN_PROGRESS")["scope"] == "all"


def test_an_all_casinos_run_in_progress_blocks_a_casinos_run(finance, superuser, tenant, held_lock):
    # given another session reconciling every casino (the nightly run)
    held_lock(None)
    # when an operator of a casino, or the platform for that casino, starts a run, then 409
    for user, body in ((finance, {}), (superuser, {"tenant": tenant.slug})):
        with nothing_changes(audit_actions=("reconciliation.run_refused",)):
            response = as_operator(user).post(RUNS, body, format="json")
        assert assert_problem(response, 409, "RECONCILIATION_RUN_IN_PROGRESS")["scope"] == f"tenant:{tenant.pk}"
