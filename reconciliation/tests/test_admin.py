"""The admin pages list runs and findings read-only; acknowledging goes through the audited service."""

import pytest
from django.test import Client

from core.models import AuditEvent
from reconciliation.models import Finding
from tenants.tests.factories import UserFactory

from .test_runs import reconcile, stuck_deposit

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_runs_and_findings_are_listed_and_cannot_be_edited(admin_client):
    stuck_deposit()
    run = reconcile()
    finding = Finding.objects.get(run=run)
    for url in ("/admin/reconciliation/reconciliationrun/", "/admin/reconciliation/finding/"):
        assert admin_client.get(url).status_code == 200
    page = admin_client.get(f"/admin/reconciliation/finding/{finding.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin_client.get("/admin/reconciliation/finding/add/").status_code == 403


def test_the_acknowledge_action_uses_the_service(admin_client):
    stuck_deposit()
    finding = Finding.objects.get(run=reconcile())
    response = admin_client.post(
        "/admin/reconciliation/finding/", {"action": "acknowledge", "_selected_action": [finding.pk]}, follow=True
    )
    assert response.status_code == 200
    finding.refresh_from_db()
    assert (finding.status, finding.note) == ("acknowledged", "Acknowledged in the admin.")
    assert AuditEvent.objects.filter(action="reconciliation.finding_acknowledged", target_id=str(finding.pk)).exists()
