"""What an operator of one tenant, and the platform, read about runs and findings."""

import pytest

from core.actors import Actor
from reconciliation import selectors
from reconciliation.models import Finding
from reconciliation.services import acknowledge_finding
from tenants.tests.factories import TenantFactory

from .test_runs import reconcile, stuck_deposit

pytestmark = pytest.mark.django_db


def test_a_tenant_sees_its_runs_and_all_tenants_runs_with_its_own_findings_only():
    # given two tenants with findings, a nightly-style run over all, and a run of each tenant
    tenant_a, tenant_b = TenantFactory(), TenantFactory()
    stuck_deposit(tenant_a), stuck_deposit(tenant_a), stuck_deposit(tenant_b)
    everyone, only_a, only_b = reconcile(), reconcile(tenant_a), reconcile(tenant_b)
    # then tenant a sees the all-tenants run and its own, not b's
    assert list(selectors.runs_covering(tenant_a.pk)) == [only_a, everyone]
    assert set(selectors.runs_covering(None)) == {everyone, only_a, only_b}
    # and in the all-tenants run, only its own findings
    assert selectors.findings_of(everyone, tenant_a.pk).count() == 2
    assert selectors.findings_of(everyone, None).count() == 3
    assert selectors.findings_of(everyone, tenant_b.pk, type="stuck_deposit", severity="medium").count() == 1


def test_the_summary_gives_the_last_run_and_what_it_left_open():
    # given a tenant with two stuck deposits, one of them acknowledged after the first run
    tenant = TenantFactory()
    stuck_deposit(tenant), stuck_deposit(tenant)
    first = reconcile(tenant)
    acknowledge_finding(Finding.objects.filter(run=first).first(), actor=Actor.system("tests"), note="on it")
    latest = reconcile(tenant)
    # when the tenant's summary is read
    summary = selectors.summary(tenant.pk)
    # then it describes the latest run, with the acknowledgement carried over
    assert (summary["latest"], summary["last_succeeded"], summary["running"]) == (latest, latest, None)
    assert summary["by_type"] == {"stuck_deposit": 2}
    assert summary["by_status"] == {"acknowledged": 1, "open": 1}
    assert summary["by_severity"] == {"medium": 2}
    assert summary["oldest_open_since"] == Finding.objects.get(run=latest, status="open").first_seen_at


def test_the_summary_before_any_run():
    summary = selectors.summary(TenantFactory().pk)
    assert (summary["latest"], summary["by_type"], summary["oldest_open_since"]) == (None, {}, None)
