"""A refused decision says why, changes nothing, and keeps the token so the operator can confirm again."""

import pytest

from core.actors import Actor
from tenants.models import PaymentPolicy
from wallet.services import reject_withdrawal
from wallet.tests.builders import REASON, set_limits, withdrawal_in_state
from wallet.tests.invariants import expect_no_change

from .helpers import (
    approvers_of,
    audit_since,
    confirm,
    decide,
    detail_url,
    execute,
    last_audit_id,
    messages_after,
    sign_in,
    state_of,
    text_of,
    token_in,
    token_is_spent,
)

pytestmark = pytest.mark.django_db

FOUR_EYES = "Four-eyes rule: another operator must do this (you requested or already approved it)."


def _policy(tenant, **values):
    PaymentPolicy.objects.filter(tenant=tenant).update(**values)


def test_a_decision_overtaken_by_another_is_an_illegal_transition(finance, finance2, player):
    # given an operator on the confirmation page of an approval
    withdrawal = withdrawal_in_state("requested", player=player)
    client = sign_in(finance)
    token = token_in(confirm(client, withdrawal, "approve"))
    # and meanwhile a colleague rejects the withdrawal
    reject_withdrawal(withdrawal, actor=Actor.operator(finance2), reason=REASON)
    # when the operator confirms, then it is refused with the reason and nothing changes
    with expect_no_change():
        response = execute(client, withdrawal, "approve", token)
    assert messages_after(client, response) == [
        "Not possible now: this withdrawal is rejected and cannot become approved."
    ]
    assert state_of(withdrawal) == "rejected" and not token_is_spent(token)


def test_the_first_approver_cannot_give_the_second_approval(finance, finance2, player, tenant):
    # given a withdrawal at the four-eyes amount with one approval
    set_limits(tenant, four_eyes_amount=100_00)
    withdrawal = withdrawal_in_state("requested", player=player, amount=100_00)
    client = sign_in(finance)
    decide(client, withdrawal, "approve")
    page = client.get(detail_url(withdrawal.pk))
    assert "awaiting second approval" in text_of(page) and "1 / 2" in text_of(page)
    # when the same operator confirms another approval, then the four-eyes rule refuses it
    token = token_in(confirm(client, withdrawal, "approve"))
    with expect_no_change():
        response = execute(client, withdrawal, "approve", token)
    assert messages_after(client, response) == [FOUR_EYES]
    assert not token_is_spent(token) and approvers_of(withdrawal) == [finance.pk]
    # and a second finance operator completes the approval
    decide(sign_in(finance2), withdrawal, "approve")
    assert state_of(withdrawal) == "approved" and approvers_of(withdrawal) == [finance.pk, finance2.pk]


def test_the_approver_cannot_mark_paid(finance, finance2, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    client = sign_in(finance)
    decide(client, withdrawal, "approve")
    with expect_no_change():
        response = decide(client, withdrawal, "mark-paid")
    assert messages_after(client, response) == [FOUR_EYES]
    decide(sign_in(finance2), withdrawal, "mark-paid")
    assert state_of(withdrawal) == "paid"


def test_the_retry_limit_refuses_until_the_policy_allows_another_attempt(finance, player, tenant):
    # given a failed payout and a policy of one attempt per withdrawal
    _policy(tenant, payout_retry_limit=1, payout_cooldown_seconds=0)
    withdrawal = withdrawal_in_state("payout_failed", player=player)
    client = sign_in(finance)
    token = token_in(confirm(client, withdrawal, "retry-payout"))
    mark = last_audit_id()
    # when the operator confirms a retry, then it is refused and the refusal is audited
    with expect_no_change(audit_actions=("payout.retry_refused",)):
        response = execute(client, withdrawal, "retry-payout", token)
    assert messages_after(client, response) == [
        "The payout retry limit is reached (1 of 1 attempts). Reject the withdrawal to release the money, "
        "or change the policy."
    ]
    assert [e.actor_user_id for e in audit_since(mark, action="payout.retry_refused")] == [finance.pk]
    # when an admin allows a second attempt, then the same confirmation goes through
    assert not token_is_spent(token)
    _policy(tenant, payout_retry_limit=2)
    execute(client, withdrawal, "retry-payout", token)
    assert state_of(withdrawal) == "payout_pending" and token_is_spent(token)


def test_the_cooldown_refuses_until_it_is_over(finance, player, tenant):
    # given a payout that failed just now and an hour's cooldown
    _policy(tenant, payout_retry_limit=5, payout_cooldown_seconds=3600)
    withdrawal = withdrawal_in_state("payout_failed", player=player)
    client = sign_in(finance)
    token = token_in(confirm(client, withdrawal, "retry-payout"))
    # when the operator confirms a retry, then it is refused with the time to wait
    with expect_no_change(audit_actions=("payout.retry_refused",)):
        response = execute(client, withdrawal, "retry-payout", token)
    (message,) = messages_after(client, response)
    assert message.startswith("Too soon after the last payout attempt: wait ") and message.endswith(" seconds.")
    assert 3500 < int(message.split("wait ")[1].split()[0]) <= 3600
    # when the cooldown is over (here: shortened), then the same confirmation goes through
    assert not token_is_spent(token)
    _policy(tenant, payout_cooldown_seconds=0)
    execute(client, withdrawal, "retry-payout", token)
    assert state_of(withdrawal) == "payout_pending"


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_decision_without_a_reason_is_refused_before_the_confirmation(reason, finance, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    client = sign_in(finance)
    with expect_no_change():
        response = confirm(client, withdrawal, "reject", reason)
    assert response["Location"] == detail_url(withdrawal.pk)
    assert messages_after(client, response) == ["Give a reason for this decision. Nothing was changed."]


def test_a_reason_removed_from_the_confirmed_form_is_refused(finance, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    client = sign_in(finance)
    token = token_in(confirm(client, withdrawal, "reject"))
    with expect_no_change():
        response = execute(client, withdrawal, "reject", token, reason="")
    assert messages_after(client, response) == ["Give a reason for this decision."]
    assert not token_is_spent(token)
