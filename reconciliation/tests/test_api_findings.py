"""A run's findings through the operator API: filters and pages; acknowledging and resolving them, audited."""

import pytest

from backoffice.tests.api.helpers import DECIDING_ROLES, as_operator, body_of
from core.models import AuditEvent
from reconciliation.models import Finding
from tenants.tests.factories import TenantFactory
from wallet.tests.api.helpers import assert_problem, assert_validation_error

from .books import audited, corrupted_books, nothing_changes, seen
from .helpers import reconcile
from .test_api import act_url, findings_url
from .test_runs import stuck_deposit

pytestmark = pytest.mark.django_db


def listed(client, run, query: str = "") -> dict:
    response = client.get(findings_url(run.pk, query))
    assert response.status_code == 200, response.content
    return body_of(response)


def post(client, finding, act: str, body: dict | None = None):
    return client.post(act_url(finding.pk, act), {} if body is None else body, format="json")


def stored(finding) -> tuple:
    row = Finding.objects.get(pk=finding.pk)
    return row.status, row.note, row.acted_by_id


def acts_on(finding) -> list[tuple]:
    events = AuditEvent.objects.filter(target_type="finding", target_id=str(finding.pk)).order_by("id")
    return [(e.action, e.before_state, e.after_state, e.reason, e.tenant_id, e.actor_user_id) for e in events]


@pytest.fixture
def one(run) -> Finding:
    """The open wallet finding of the casino's run."""
    return Finding.objects.get(run=run, type="wallet_available_mismatch")


# --- filters and pages ---------------------------------------------------------------------------


def test_findings_filter_by_status_type_and_severity(finance, books, run):
    client = as_operator(finance)
    Finding.objects.filter(run=run, type="stuck_deposit").update(status="acknowledged")
    withdrawal = ("paid_withdrawal_event_count", "critical", "withdrawal", str(books.withdrawal.pk))
    deposit = ("stuck_deposit", "medium", "deposit", str(books.deposit.pk))
    # when the findings are filtered, then only the matching ones are listed and counted
    cases = {
        "?severity=critical": books.expected - {deposit},
        "?severity=medium": {deposit},
        "?severity=high": set(),
        "?status=acknowledged": {deposit},
        "?status=open": books.expected - {deposit},
        "?status=resolved": set(),
        "?type=paid_withdrawal_event_count": {withdrawal},
        "?type=paid_withdrawal_event_count&severity=critical&status=open": {withdrawal},
        "?type=paid_withdrawal_event_count&status=acknowledged": set(),
        "?status=&type=&severity=": books.expected,
    }
    for query, expected in cases.items():
        page = listed(client, run, query)
        assert (seen(page["results"]), page["count"]) == (expected, len(expected)), query


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?status=closed", "status"),
        ("?type=wallet", "type"),
        ("?severity=CRITICAL", "severity"),
        ("?page_size=0", "page_size"),
        ("?page_size=201", "page_size"),
        ("?page_size=ten", "page_size"),
        ("?page=0", "page"),
        ("?page=-1", "page"),
        ("?page=1.5", "page"),
    ],
)
def test_unknown_filter_values_and_bad_pages_are_400(viewer, run, query, field):
    assert_validation_error(as_operator(viewer).get(findings_url(run.pk, query)), field)


def test_findings_come_in_pages_in_a_stable_order(viewer, tenant):
    # given a run with seven stuck deposits
    for _ in range(7):
        stuck_deposit(tenant)
    run = reconcile(tenant)
    ids = list(Finding.objects.filter(run=run).order_by("id").values_list("id", flat=True))
    client = as_operator(viewer)
    # when read three at a time, then the pages cover every finding once, oldest first
    pages = [listed(client, run, f"?page_size=3&page={n}") for n in (1, 2, 3)]
    assert [(p["count"], p["page"], p["pages"]) for p in pages] == [(7, 1, 3), (7, 2, 3), (7, 3, 3)]
    assert [r["id"] for p in pages for r in p["results"]] == ids
    assert [len(p["results"]) for p in pages] == [3, 3, 1]
    # and a page past the end is empty, the default page is 50, and a filter is paged too
    assert listed(client, run, "?page_size=3&page=4")["results"] == []
    assert (listed(client, run)["pages"], len(listed(client, run, "?page_size=200")["results"])) == (1, 7)
    assert listed(client, run, "?page_size=5&page=2&severity=medium")["results"][0]["id"] == ids[5]


def test_an_unknown_or_malformed_run_is_not_found(viewer, run):
    client = as_operator(viewer)
    for run_id in (run.pk + 1000, "abc", "1e3"):
        assert_problem(client.get(findings_url(run_id)), 404, "NOT_FOUND")


# --- acknowledge and resolve ---------------------------------------------------------------------


@pytest.mark.parametrize("role", DECIDING_ROLES)
def test_acknowledge_without_a_note_then_resolve_with_one(staff, tenant, one, role):
    user, client = staff[role], as_operator(staff[role])
    # when a finance or admin operator acknowledges the finding without a note
    response = post(client, one, "acknowledge")
    # then it is acknowledged, by them, now
    assert response.status_code == 200, response.content
    body = body_of(response)
    assert (body["id"], body["status"], body["note"], body["acted_by"]) == (one.pk, "acknowledged", "", user.username)
    assert body["acted_at"] is not None
    assert stored(one) == ("acknowledged", "", user.pk)
    # when they resolve it with a note
    response = post(client, one, "resolve", {"note": "  Balance set back to the ledger sum.  "})
    assert response.status_code == 200, response.content
    assert body_of(response)["status"] == "resolved"
    assert stored(one) == ("resolved", "Balance set back to the ledger sum.", user.pk)
    # then both acts are audited under the casino, by the operator, with the note as the reason
    assert acts_on(one) == [
        ("reconciliation.finding_acknowledged", "open", "acknowledged", "", tenant.pk, user.pk),
        (
            "reconciliation.finding_resolved",
            "acknowledged",
            "resolved",
            "Balance set back to the ledger sum.",
            tenant.pk,
            user.pk,
        ),
    ]
    # and the findings list shows it so
    (shown,) = listed(client, one.run, "?status=resolved")["results"]
    assert (shown["id"], shown["note"], shown["acted_by"]) == (
        one.pk,
        "Balance set back to the ledger sum.",
        user.username,
    )


def test_acknowledge_with_a_note_and_again_is_a_no_op(finance, one):
    client = as_operator(finance)
    assert post(client, one, "acknowledge", {"note": "Looking at the postings."}).status_code == 200
    # when acknowledged again (a double click), then 200 and nothing more changes or is audited
    again = post(client, one, "acknowledge", {"note": "something else"})
    assert (again.status_code, body_of(again)["note"]) == (200, "Looking at the postings.")
    assert stored(one) == ("acknowledged", "Looking at the postings.", finance.pk)
    assert [a[0] for a in acts_on(one)] == ["reconciliation.finding_acknowledged"]


@pytest.mark.parametrize("body", [{}, {"note": ""}, {"note": "   \n\t"}])
def test_resolving_needs_a_note(finance, one, body):
    with nothing_changes():
        assert_problem(post(as_operator(finance), one, "resolve", body), 400, "REVIEW_REASON_REQUIRED")
    assert stored(one) == ("open", "", None)


def test_a_note_longer_than_2000_characters_is_refused(finance, one):
    with nothing_changes():
        assert_validation_error(post(as_operator(finance), one, "resolve", {"note": "x" * 2001}), "note")


def test_resolving_a_resolved_finding_is_a_no_op_and_acknowledging_it_is_409(finance, admin, one):
    assert post(as_operator(finance), one, "resolve", {"note": "Fixed."}).status_code == 200
    client = as_operator(admin)
    # when resolved again by anyone, then 200 with the first resolution, nothing audited
    with nothing_changes():
        again = post(client, one, "resolve", {"note": "Fixed differently."})
    assert (again.status_code, body_of(again)["note"], body_of(again)["acted_by"]) == (200, "Fixed.", finance.username)
    # when acknowledged, then 409: a resolved finding stays closed
    with nothing_changes():
        body = assert_problem(post(client, one, "acknowledge"), 409, "ILLEGAL_FINDING_STATE_TRANSITION")
    assert (body["from_state"], body["to_state"]) == ("resolved", "acknowledged")
    assert stored(one) == ("resolved", "Fixed.", finance.pk)


@pytest.mark.parametrize("act", ["acknowledge", "resolve"])
def test_an_unknown_or_malformed_finding_is_not_found(finance, run, act):
    client = as_operator(finance)
    with nothing_changes():
        for finding_id in (Finding.objects.latest("id").pk + 1000, "abc", "-1"):
            response = client.post(act_url(finding_id, act), {"note": "n"}, format="json")
            assert_problem(response, 404, "NOT_FOUND")


def test_an_all_casinos_runs_finding_is_acted_on_by_its_casino_only(finance, tenant):
    # given a nightly-style run over this casino and another
    corrupted_books(tenant), corrupted_books(TenantFactory())
    everyone = reconcile()
    mine = Finding.objects.filter(run=everyone, tenant=tenant).first()
    theirs = Finding.objects.filter(run=everyone).exclude(tenant=tenant).first()
    client = as_operator(finance)
    # then this casino's operator acknowledges its own finding, and does not find the other's
    assert post(client, mine, "acknowledge").status_code == 200
    with nothing_changes():
        assert_problem(post(client, theirs, "acknowledge"), 404, "NOT_FOUND")
    # and the acknowledgement is audited under the finding's casino
    (event,) = audited("reconciliation.finding_acknowledged")
    assert (event.tenant_id, event.data["run_id"]) == (tenant.pk, everyone.pk)
