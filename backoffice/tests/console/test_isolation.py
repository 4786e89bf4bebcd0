"""Another casino's objects do not exist for an operator: 404 on every console URL, for every role."""

import uuid

import pytest

from wallet.tests.builders import deposit_in_state, withdrawal_in_state
from wallet.tests.invariants import expect_no_change

from .helpers import AUDIT, DECISIONS, QUEUE, ROLES, confirm_url, decide_url, detail_url, sign_in, snapshot_url

pytestmark = pytest.mark.django_db


def _requests(withdrawal_id, deposit_id) -> list[tuple[str, str]]:
    gets = [("get", detail_url(withdrawal_id)), ("get", snapshot_url(withdrawal_id)), ("get", snapshot_url(deposit_id))]
    posts = [("post", confirm_url(withdrawal_id, d)) for d in DECISIONS] + [
        ("post", decide_url(withdrawal_id, d)) for d in DECISIONS
    ]
    return gets + posts


@pytest.mark.parametrize("role", ROLES)
def test_another_casinos_withdrawal_is_not_found_on_every_url(role, staff, foreign_player):
    # given a withdrawal in every state a decision is offered in, at another casino
    foreign = {state: withdrawal_in_state(state, player=foreign_player) for state in ("requested", "approved")}
    deposit = deposit_in_state("completed", player=foreign_player)
    client = sign_in(staff[role])
    for withdrawal in foreign.values():
        # when the operator opens or posts to any of its console URLs, then it is 404 and nothing changes
        with expect_no_change():
            for method, url in _requests(withdrawal.pk, deposit.pk):
                response = getattr(client, method)(url, {"reason": "r", "token": "t"} if method == "post" else None)
                assert response.status_code == 404, (role, method, url, response.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_unknown_and_malformed_ids_and_decisions_are_not_found(role, staff, player):
    client = sign_in(staff[role])
    withdrawal = withdrawal_in_state("requested", player=player)
    for method, url in [
        *_requests(uuid.uuid4(), uuid.uuid4()),
        *_requests("not-a-uuid", "x"),
        ("post", confirm_url(withdrawal.pk, "pay-twice")),
        ("post", decide_url(withdrawal.pk, "pay-twice")),
    ]:
        response = getattr(client, method)(url, {"reason": "r", "token": "t"} if method == "post" else None)
        assert response.status_code == 404, (role, method, url, response.status_code)


def test_lists_show_only_the_operators_casino(finance, player, foreign_player):
    ours = withdrawal_in_state("requested", player=player)
    theirs = withdrawal_in_state("requested", player=foreign_player)
    client = sign_in(finance)
    assert [w.pk for w in client.get(QUEUE).context["page"]] == [ours.pk]
    counts = {value: count for value, _label, count in client.get(QUEUE).context["counts"]}
    assert counts["requested"] == 1
    # a filter naming the other casino's player finds nothing
    response = client.get(QUEUE, {"player": foreign_player.user.username, "state": "requested"})
    assert list(response.context["page"]) == []
    # and the audit trail has none of its events, even when asked for one by id
    events = client.get(AUDIT).context["events"]
    assert events and {e.tenant_id for e in events} == {finance.operator_membership.tenant_id}
    assert list(client.get(AUDIT, {"target_id": str(theirs.pk)}).context["events"]) == []
