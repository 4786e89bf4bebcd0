"""Decisions under real concurrency (threads, own connections) and the payout queued on commit."""

import pytest
from django.test import Client

from core.models import AuditEvent
from payouts.sandbox.models import SandboxDelivery
from payouts.tests.factories import ProviderAccountFactory
from payouts.tests.helpers import deliver_all
from wallet.models import PayoutAttempt
from wallet.tests.api.helpers import assert_problem, balances
from wallet.tests.builders import AMOUNT, set_limits, withdrawal_in_state
from wallet.tests.concurrency import errors_of, run_together
from wallet.tests.invariants import assert_invariants

from .helpers import approvers_of, as_operator, body_of, decide, history_of, state_of

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6


def _race(clients, send) -> list:
    outcomes = run_together(len(clients), lambda i: send(clients[i], i))
    assert errors_of(outcomes) == []
    return [outcome.value for outcome in outcomes]


def _actions(withdrawal) -> list[str]:
    return sorted(AuditEvent.objects.filter(target_id=str(withdrawal.pk)).values_list("action", flat=True))


def test_a_double_click_with_one_key_approves_once(finance, player):
    # given a withdrawal awaiting review and one operator's browser firing the same request repeatedly
    withdrawal = withdrawal_in_state("requested", player=player)
    clients = [as_operator(finance) for _ in range(THREADS)]
    # when the requests arrive at the same moment with the same key
    responses = _race(clients, lambda client, i: decide(client, withdrawal.pk, "approve", key="double-click"))
    # then it was approved once, with one history row, one approval and one audit event
    assert state_of(withdrawal) == "approved"
    assert history_of(withdrawal) == [("", "requested"), ("requested", "approved")]
    assert approvers_of(withdrawal) == [finance.pk]
    assert _actions(withdrawal) == ["withdrawal.approved", "withdrawal.requested"]
    # and every answer is the original, a byte-identical replay of it, or "in progress"
    (original,) = [r for r in responses if r.status_code == 200 and "Idempotent-Replayed" not in r]
    for response in responses:
        if response is original:
            continue
        if response.status_code == 200:
            assert (response["Idempotent-Replayed"], response.content) == ("true", original.content)
        else:
            assert_problem(response, 409, "IDEMPOTENCY_REQUEST_IN_PROGRESS")
    assert_invariants()


def test_racing_approvals_with_their_own_keys_approve_once(finance, admin, player):
    # given two operators whose clients each send approvals with fresh keys, all at once
    withdrawal = withdrawal_in_state("requested", player=player)
    clients = [as_operator(finance if i % 2 else admin) for i in range(THREADS)]
    responses = _race(clients, lambda client, i: decide(client, withdrawal.pk, "approve", key=f"k-{i}"))
    # then every answer is 200 approved, but only the first one acted: the rest were no-ops
    assert [r.status_code for r in responses] == [200] * THREADS
    assert {body_of(r)["state"] for r in responses} == {"approved"}
    assert history_of(withdrawal) == [("", "requested"), ("requested", "approved")]
    assert len(approvers_of(withdrawal)) == 1
    assert _actions(withdrawal) == ["withdrawal.approved", "withdrawal.requested"]
    assert balances(player) == (0, AMOUNT)
    assert_invariants()


def test_two_operators_approving_at_once_above_the_threshold_complete_four_eyes(tenant, finance, finance2, player):
    # given a withdrawal that needs two approvals, and two finance operators approving at the same moment
    set_limits(tenant, four_eyes_amount=AMOUNT)
    withdrawal = withdrawal_in_state("requested", player=player)
    clients = [as_operator(finance), as_operator(finance2)]
    responses = _race(clients, lambda client, i: decide(client, withdrawal.pk, "approve", key="mine"))
    # then both approvals count, in some order, and the withdrawal is approved exactly once
    assert sorted(r.status_code for r in responses) == [200, 200]
    assert sorted(approvers_of(withdrawal)) == sorted([finance.pk, finance2.pk])
    assert state_of(withdrawal) == "approved"
    assert _actions(withdrawal) == ["withdrawal.approval_recorded", "withdrawal.approved", "withdrawal.requested"]
    assert {body_of(r)["approvals"] for r in responses} == {1, 2}


def test_approval_hands_the_payout_to_the_psp_after_commit(tenant, finance, player):
    # given a casino with an account at the in-process sandbox PSP
    ProviderAccountFactory(tenant=tenant)
    withdrawal = withdrawal_in_state("requested", player=player)
    # when a finance operator approves it
    response = decide(as_operator(finance), withdrawal.pk, "approve")
    # then the answer is the decision itself (approved), and after the commit the payout was sent
    assert response.status_code == 200 and body_of(response)["state"] == "approved"
    assert state_of(withdrawal) == "payout_pending"
    (attempt,) = PayoutAttempt.objects.filter(withdrawal_id=withdrawal.pk)
    assert (attempt.number, attempt.status, attempt.dispatch_count, attempt.provider) == (1, "pending", 1, "sandbox")
    assert SandboxDelivery.objects.filter(event_type="payout.succeeded").count() == 1
    # and when the PSP's webhook arrives, the withdrawal is paid and the held money gone
    assert deliver_all(Client()) == 1
    assert state_of(withdrawal) == "paid"
    assert balances(player) == (0, 0)
    assert_invariants()
