"""One-time form tokens: a confirmed decision acts once, and only with its own token."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import FormToken
from wallet.tests.builders import withdrawal_in_state
from wallet.tests.invariants import expect_no_change

from .helpers import (
    approvers_of,
    audit_since,
    confirm,
    execute,
    last_audit_id,
    messages_after,
    sign_in,
    state_of,
    token_in,
    token_is_spent,
)

pytestmark = pytest.mark.django_db

ALREADY = "This form was already submitted; it was not done twice."


def test_a_token_is_spent_once(finance, player):
    # given a confirmation page for an approval
    withdrawal = withdrawal_in_state("requested", player=player)
    client = sign_in(finance)
    token = token_in(confirm(client, withdrawal, "approve"))
    assert not token_is_spent(token)
    mark = last_audit_id()
    # when the confirmed form is posted, then the withdrawal is approved and the token spent
    first = execute(client, withdrawal, "approve", token)
    assert messages_after(client, first) == [f"Approve: done for {withdrawal.reference}."]
    assert state_of(withdrawal) == "approved" and token_is_spent(token)
    # when the same form is posted again (double click, resubmit), then nothing more happens
    with expect_no_change():
        again = execute(client, withdrawal, "approve", token)
    assert messages_after(client, again) == [ALREADY]
    assert approvers_of(withdrawal) == [finance.pk]
    assert len(audit_since(mark, action="withdrawal.approved")) == 1


def test_every_confirmation_issues_a_new_token(finance, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    client = sign_in(finance)
    tokens = {token_in(confirm(client, withdrawal, "approve")) for _ in range(3)}
    assert len(tokens) == 3
    assert FormToken.objects.filter(user=finance, purpose=f"withdrawal.approve:{withdrawal.pk}").count() == 3


def test_another_operators_token_is_refused(finance, finance2, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    theirs = token_in(confirm(sign_in(finance2), withdrawal, "approve"))
    client = sign_in(finance)
    with expect_no_change():
        response = execute(client, withdrawal, "approve", theirs)
    assert messages_after(client, response) == [ALREADY]
    assert not token_is_spent(theirs)


def test_another_withdrawals_token_is_refused(finance, player):
    first = withdrawal_in_state("requested", player=player)
    second = withdrawal_in_state("requested", player=player)
    client = sign_in(finance)
    token = token_in(confirm(client, first, "approve"))
    with expect_no_change():
        response = execute(client, second, "approve", token)
    assert messages_after(client, response) == [ALREADY]
    assert not token_is_spent(token)
    # the token still works where it was issued
    execute(client, first, "approve", token)
    assert (state_of(first), state_of(second)) == ("approved", "requested")


def test_another_decisions_token_is_refused(finance, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    client = sign_in(finance)
    approve_token = token_in(confirm(client, withdrawal, "approve"))
    with expect_no_change():
        response = execute(client, withdrawal, "reject", approve_token)
    assert messages_after(client, response) == [ALREADY]
    assert state_of(withdrawal) == "requested"


@pytest.mark.parametrize("token", ["", "unknown-token", "x" * 64])
def test_an_unknown_or_missing_token_is_refused(token, finance, player):
    withdrawal = withdrawal_in_state("requested", player=player)
    client = sign_in(finance)
    with expect_no_change():
        response = execute(client, withdrawal, "approve", token)
    assert messages_after(client, response) == [ALREADY]


def test_an_old_token_is_refused(finance, player):
    # given a confirmation page left open for more than two hours
    withdrawal = withdrawal_in_state("requested", player=player)
    client = sign_in(finance)
    token = token_in(confirm(client, withdrawal, "approve"))
    FormToken.objects.filter(token=token).update(created_at=timezone.now() - timedelta(hours=2, seconds=1))
    # when it is confirmed, then nothing happens and the operator is told
    with expect_no_change():
        response = execute(client, withdrawal, "approve", token)
    assert messages_after(client, response) == [ALREADY]
    # a fresh confirmation works
    execute(client, withdrawal, "approve", token_in(confirm(client, withdrawal, "approve")))
    assert state_of(withdrawal) == "approved"
