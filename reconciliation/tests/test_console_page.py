"""The console's reconciliation page: what each role sees, findings linked to snapshots, filters, pages, isolation.

Operators are signed in with a password and a confirmed TOTP device (wallet/tests/console);
the books are corrupted as in test_api.py. Starting runs and acting on findings from the
console are in test_console_actions.py.
"""

import re

import pytest
from django.utils import timezone

from backoffice.tests.console.helpers import OTP, ROLES, VIEWER, sign_in, snapshot_url, text_of
from reconciliation.models import Finding

from .books import corrupted_books
from .helpers import reconcile

pytestmark = pytest.mark.django_db

PAGE = "/console/reconciliation/"
RUN_NOW = "/console/reconciliation/runs/"


def act_url(finding_id, act: str) -> str:
    return f"/console/reconciliation/findings/{finding_id}/{act}/"


def shown(response) -> list[int]:
    """Ids of the findings listed on the page, in order."""
    assert response.status_code == 200, response.status_code
    return [f.pk for f in response.context["page"]]


def buttons(response) -> dict[str, int]:
    content = response.content.decode()
    return {
        "run": content.count('data-testid="run-now"'),
        "acknowledge": len(re.findall(r'action="/console/reconciliation/findings/\d+/acknowledge/"', content)),
        "resolve": len(re.findall(r'action="/console/reconciliation/findings/\d+/resolve/"', content)),
    }


def ids(run, **filters) -> list[int]:
    return list(Finding.objects.filter(run=run, **filters).order_by("id").values_list("id", flat=True))


@pytest.mark.parametrize("role", ROLES)
def test_the_page_for_every_role(role, staff, books, run):
    # given a run over the casino's corrupted books
    response = sign_in(staff[role]).get(PAGE)
    # when any operator opens the page, then it shows the run, its counts and every finding
    assert shown(response) == ids(run)
    text = text_of(response)
    assert f"Findings of run #{run.pk}" in text
    assert "Critical 2" in text and "Medium 1" in text
    assert f"{staff[role].username} · {role.capitalize()}" in text  # the role, as a label
    # and only finance and admin get the run button and a form per open finding
    may_act = role != VIEWER
    assert buttons(response) == {"run": may_act, "acknowledge": 3 * may_act, "resolve": 3 * may_act}


def test_withdrawal_and_deposit_findings_link_to_their_snapshot(viewer, books, run):
    client = sign_in(viewer)
    content = client.get(PAGE).content.decode()
    # then the withdrawal's and the deposit's findings open their transaction snapshot, the wallet's has no link
    links = set(re.findall(r'href="(/console/transactions/[^"]+/)"', content))
    assert links == {snapshot_url(books.withdrawal.pk), snapshot_url(books.deposit.pk)}
    for link in links:
        assert client.get(link).status_code == 200, link
    row = re.search(rf'<tr data-finding="{ids(run, type="wallet_available_mismatch")[0]}">.*?</tr>', content, re.S)
    assert "href=" not in row.group(0) and "Wallet" in row.group(0)


def test_expected_and_actual_read_as_fields_not_python(viewer, books, run):
    content = sign_in(viewer).get(PAGE).content.decode()
    row = re.search(rf'<tr data-finding="{ids(run, type="stuck_deposit")[0]}">.*?</tr>', content, re.S).group(0)
    assert "<code>max_seconds: 86400</code>" in row
    assert "state: pending_provider, seconds: " in row
    assert not [code for code in re.findall(r"<code>(.*?)</code>", row) if "{" in code or "&#x27;" in code]


def test_before_any_run_and_after_a_clean_one(finance, tenant):
    client = sign_in(finance)
    assert "No reconciliation has run yet." in text_of(client.get(PAGE))
    clean = reconcile(tenant)
    response = client.get(PAGE)
    assert shown(response) == []
    assert f"Last run #{clean.pk} · Succeeded" in text_of(response)
    assert "No findings: wallets, ledger and payouts agree." in text_of(response)


def test_the_page_needs_a_complete_sign_in(finance, settings):
    # with only the password, the page sends the operator to the second factor
    response = sign_in(finance, second_factor=False).get(PAGE)
    assert (response.status_code, response["Location"]) == (302, OTP)
    # where the second factor is not required, the password is enough
    settings.OPERATOR_2FA_REQUIRED = False
    assert sign_in(finance, second_factor=False).get(PAGE).status_code == 200


def test_findings_are_filtered_on_the_page(viewer, books, run):
    client = sign_in(viewer)
    wallet, withdrawal, deposit = (
        ids(run, type=t) for t in ("wallet_available_mismatch", "paid_withdrawal_event_count", "stuck_deposit")
    )
    cases = {
        "?severity=critical": wallet + withdrawal,
        "?severity=medium": deposit,
        "?type=paid_withdrawal_event_count": withdrawal,
        "?status=resolved": [],
        "?status=open&severity=critical&type=wallet_available_mismatch": wallet,
    }
    for query, expected in cases.items():
        response = client.get(PAGE + query)
        assert sorted(shown(response)) == sorted(expected), query
    assert "No findings match." in text_of(client.get(PAGE + "?status=resolved"))


def test_pages_of_findings_keep_the_filters(viewer, run):
    # given a run with 60 more open critical findings and 1 medium one
    now = timezone.now()
    Finding.objects.bulk_create(
        Finding(
            run=run,
            tenant_id=run.tenant_id,
            type="wallet_held_mismatch",
            severity="critical",
            object_type="wallet",
            object_id=str(n),
            key=f"wallet_held_mismatch:wallet:{n}",
            first_seen_at=now,
            created_at=now,
        )
        for n in range(60)
    )
    critical = ids(run, severity="critical")
    client = sign_in(viewer)
    # when the operator filters on critical findings, then they come 50 to a page
    first = client.get(f"{PAGE}?run={run.pk}&severity=critical")
    assert shown(first) == critical[:50]
    # and the link to the next page keeps the filter
    (next_page,) = re.findall(r'<nav class="pager">.*?href="([^"]+)"', first.content.decode(), re.S)
    second = client.get(PAGE + next_page.replace("&amp;", "&"))
    assert shown(second) == critical[50:]


# --- isolation -----------------------------------------------------------------------------------


def test_an_all_casinos_run_shows_the_casinos_findings_and_counts_only(staff, tenant, other_tenant):
    # given a nightly-style run that found 3 things here and 6 in another casino
    books = corrupted_books(tenant)
    corrupted_books(other_tenant), corrupted_books(other_tenant)
    everyone = reconcile()
    for role in ROLES:
        # when an operator here opens the page, then only this casino's findings and counts are shown
        response = sign_in(staff[role]).get(PAGE)
        assert shown(response) == ids(everyone, tenant=tenant)
        text = text_of(response)
        assert "all casinos" in text and "Critical 2" in text and "Medium 1" in text
        assert str(books.wallet.pk) in text
        # and the list of recent runs counts this casino's findings, not every casino's
        assert re.search(rf"#{everyone.pk} [^#]+? CET · Full · Succeeded · 3\b", text), text


def test_another_casinos_run_cannot_be_opened(finance, tenant, other_tenant, books, run):
    # given a run of another casino
    corrupted_books(other_tenant)
    foreign = reconcile(other_tenant)
    # when an operator here asks the page for it, then they see their own last run instead
    response = sign_in(finance).get(f"{PAGE}?run={foreign.pk}")
    assert response.context["run"] == run
    assert shown(response) == ids(run)
    assert f"#{foreign.pk}" not in text_of(response)


def test_an_earlier_run_is_shown_with_its_own_counts(viewer, tenant, books, run):
    # given a later run that found one more stuck deposit
    corrupted_books(tenant)
    later = reconcile(tenant)
    assert later.findings_count == 6
    # when the operator opens the earlier run, then its findings and its counts are shown
    response = sign_in(viewer).get(f"{PAGE}?run={run.pk}")
    assert shown(response) == ids(run)
    text = text_of(response)
    assert f"Findings of run #{run.pk}" in text
    assert "Critical 2" in text and "Medium 1" in text, text


def test_a_platform_superuser_sees_every_casino(superuser, tenant, other_tenant):
    corrupted_books(tenant), corrupted_books(other_tenant)
    everyone = reconcile()
    response = sign_in(superuser).get(PAGE)
    assert shown(response) == ids(everyone)
    assert "Critical 4" in text_of(response)
    assert buttons(response) == {"run": 1, "acknowledge": 6, "resolve": 6}


def test_the_run_list_shows_each_runs_mode_in_the_operators_language(viewer, tenant, books):
    # given a full run of every casino, then an incremental one
    full, incremental = reconcile(), reconcile(mode="incremental")
    client = sign_in(viewer)
    # when the page is read in English, then in Turkish
    english = text_of(client.get(PAGE))
    client.post("/i18n/setlang/", {"language": "tr", "next": PAGE})
    turkish = text_of(client.get(PAGE))
    # then each run is listed with its mode, and the last run names its mode
    assert re.search(rf"#{incremental.pk} [^#]+? · Incremental · Succeeded · 3\b", english), english
    assert re.search(rf"#{full.pk} [^#]+? · Full · Succeeded · 3\b", english), english
    assert "(Code or shell, Incremental, all casinos)" in english
    assert re.search(rf"#{incremental.pk} [^#]+? · Artımlı · ", turkish), turkish
    assert re.search(rf"#{full.pk} [^#]+? · Tam · ", turkish), turkish
