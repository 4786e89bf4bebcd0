"""Acknowledging and resolving findings: audited, idempotent, closed once resolved, tenant- and role-checked."""

import pytest

from core.actors import Actor
from core.errors import NotFound, PermissionDenied, ReviewReasonRequired
from core.models import AuditEvent
from reconciliation.errors import IllegalFindingStateTransition
from reconciliation.models import Finding
from reconciliation.services import acknowledge_finding, resolve_finding
from tenants.models import OperatorMembership
from tenants.tests.factories import OperatorFactory, TenantFactory

from .test_runs import reconcile, stuck_deposit

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_finding() -> Finding:
    """A real finding: a deposit stuck at the PSP, found by a run over its tenant."""
    deposit = stuck_deposit()
    return Finding.objects.get(run=reconcile(deposit.tenant))


def operator(tenant, role=OperatorMembership.Role.FINANCE) -> Actor:
    return Actor.operator(OperatorFactory(tenant=tenant, role=role).user)


def actions(finding) -> list[tuple[str, str, str, str]]:
    return list(
        AuditEvent.objects.filter(target_type="finding", target_id=str(finding.pk))
        .order_by("id")
        .values_list("action", "before_state", "after_state", "reason")
    )


def test_acknowledge_then_resolve(open_finding):
    # given a finance operator of the finding's tenant
    actor = operator(open_finding.tenant)
    # when they acknowledge it, then resolve it with a note
    acknowledged = acknowledge_finding(open_finding, actor=actor, note="Looking at the PSP's records.")
    resolve_finding(open_finding.pk, actor=actor, note="Failed at the PSP; the sweeper closed it.")
    # then the finding is resolved, by whom, when, with the last note
    assert acknowledged.status == "acknowledged"
    stored = Finding.objects.get(pk=open_finding.pk)
    assert (stored.status, stored.note, stored.acted_by_id) == (
        "resolved",
        "Failed at the PSP; the sweeper closed it.",
        actor.user_id,
    )
    assert stored.acted_by_label == actor.label and stored.acted_at is not None
    # and both acts are in the audit trail, with the tenant
    assert actions(open_finding) == [
        ("reconciliation.finding_acknowledged", "open", "acknowledged", "Looking at the PSP's records."),
        ("reconciliation.finding_resolved", "acknowledged", "resolved", "Failed at the PSP; the sweeper closed it."),
    ]
    assert set(AuditEvent.objects.filter(target_type="finding").values_list("tenant_id", flat=True)) == {
        open_finding.tenant_id
    }


def test_an_open_finding_can_be_resolved_directly_and_again_is_a_no_op(open_finding):
    actor = operator(open_finding.tenant)
    resolve_finding(open_finding, actor=actor, note="Fixed by hand.")
    # when resolved again, or the resolution repeated (a double click)
    again = resolve_finding(open_finding, actor=actor, note="Something else.")
    # then nothing changes and nothing more is audited
    assert (again.status, again.note) == ("resolved", "Fixed by hand.")
    assert [a[0] for a in actions(open_finding)] == ["reconciliation.finding_resolved"]


def test_acknowledging_twice_is_a_no_op(open_finding):
    actor = operator(open_finding.tenant)
    acknowledge_finding(open_finding, actor=actor)
    acknowledge_finding(open_finding, actor=actor, note="again")
    assert [a[0] for a in actions(open_finding)] == ["reconciliation.finding_acknowledged"]
    assert Finding.objects.get(pk=open_finding.pk).note == ""


def test_a_resolved_finding_cannot_be_acknowledged(open_finding):
    actor = operator(open_finding.tenant)
    resolve_finding(open_finding, actor=actor, note="Done.")
    with pytest.raises(IllegalFindingStateTransition) as refused:
        acknowledge_finding(open_finding, actor=actor)
    assert (refused.value.status, refused.value.error_code) == (409, "ILLEGAL_FINDING_STATE_TRANSITION")
    assert refused.value.fields == {"from_state": "resolved", "to_state": "acknowledged"}
    assert Finding.objects.get(pk=open_finding.pk).status == "resolved"


def test_resolving_needs_a_note(open_finding):
    with pytest.raises(ReviewReasonRequired):
        resolve_finding(open_finding, actor=operator(open_finding.tenant), note="   ")
    assert Finding.objects.get(pk=open_finding.pk).status == "open"
    assert actions(open_finding) == []


def test_another_tenants_operator_does_not_find_it_and_a_viewer_may_not_act(open_finding):
    # given an operator of another tenant, and a viewer of the finding's tenant
    stranger, viewer = operator(TenantFactory()), operator(open_finding.tenant, OperatorMembership.Role.VIEWER)
    # then the stranger is told there is no such finding, and the viewer that their role may not
    with pytest.raises(NotFound):
        acknowledge_finding(open_finding, actor=stranger)
    with pytest.raises(PermissionDenied):
        resolve_finding(open_finding, actor=viewer, note="I think it is fine.")
    with pytest.raises(NotFound):
        acknowledge_finding(10**9, actor=viewer)
    # and nothing changed
    assert Finding.objects.get(pk=open_finding.pk).status == "open"
    assert actions(open_finding) == []
