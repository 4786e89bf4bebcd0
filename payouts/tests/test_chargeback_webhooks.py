"""`payment.charged_back` and `payment.chargeback_reversed`: signed, deduplicated, out-of-order safe, tenant-scoped;
and the sandbox PSP that sends them (`POST v1/payments/<id>/chargeback`, `.../chargeback-reversal`, the page)."""

import json

import pytest

from payouts.models import WebhookEvent
from payouts.providers import provider_for
from payouts.sandbox import engine
from payouts.sandbox.models import SandboxDelivery, SandboxPayment
from payouts.tests.factories import ProviderAccountFactory
from wallet.models import Deposit, Wallet
from wallet.tests.api.helpers import client_for, deposit_request
from wallet.tests.builders import deposit_in_state
from wallet.tests.factories import card, deposit_with
from wallet.tests.invariants import assert_invariants, expect_no_change

from .helpers import deliver_all, envelope, http, money_events, payment_data, post_event, send_event, signed_headers

CHARGED_BACK, REVERSED = "payment.charged_back", "payment.chargeback_reversed"


def outcome_of(response) -> str:
    assert response.status_code == 200, response.content
    return json.loads(response.content)["outcome"]


def owed(player) -> tuple[int, int]:
    wallet = Wallet.objects.get(player=player, currency="EUR")
    return wallet.balance_available, wallet.balance_receivable


def state(deposit) -> str:
    return Deposit.objects.get(pk=deposit.pk).state


@pytest.mark.django_db
def test_a_signed_chargeback_is_applied_once_whatever_repeats_it(web, secret, player):
    deposit = deposit_with(player, 30_00, method=card())
    event_id, body = envelope(CHARGED_BACK, payment_data(deposit, reason="Fraud"))
    # when the PSP sends the chargeback, then sends it again, and sends the same news under another id
    assert outcome_of(post_event(web, signed_headers(secret, event_id, body), body)) == "applied"
    again = post_event(web, signed_headers(secret, event_id, body), body)
    assert json.loads(again.content) == {"received": True, "duplicate": True, "outcome": "duplicate"}
    assert outcome_of(send_event(web, secret, CHARGED_BACK, payment_data(deposit))) == "no_change"
    # then the deposit is charged back and debited exactly once
    assert state(deposit) == "charged_back"
    assert money_events(deposit) == ["deposit_completed", "deposit_charged_back"]
    assert owed(player) == (0, 0)
    assert WebhookEvent.objects.filter(deposit=deposit).count() == 2
    assert_invariants()


@pytest.mark.django_db
@pytest.mark.parametrize("payment_id", ["p" * 129, 42, None])
def test_a_dispute_with_a_payment_id_we_cannot_keep_is_a_mismatch_not_a_500(web, secret, player, payment_id):
    # given a deposit still open at the PSP (the dispute would complete it first, keeping the PSP's id)
    deposit = deposit_in_state("created", player=player)
    with expect_no_change(audit_actions=("webhook.accepted", "webhook.accepted")):
        for kind in (CHARGED_BACK, REVERSED):
            answer = send_event(web, secret, kind, payment_data(deposit, payment_id=payment_id))
            # then it is stored and acknowledged for an operator to look at, and moves nothing
            assert outcome_of(answer) == "mismatch"
    assert state(deposit) == "created"


@pytest.mark.django_db
def test_a_reversal_that_overtakes_its_chargeback_applies_both_in_order(web, secret, player):
    deposit = deposit_with(player, 30_00, method=card())
    # when the reversal arrives before the chargeback, then the chargeback
    assert outcome_of(send_event(web, secret, REVERSED, payment_data(deposit))) == "applied"
    assert outcome_of(send_event(web, secret, CHARGED_BACK, payment_data(deposit))) == "no_change"
    # then the deposit ends reversed, both money events happened once, and the money is back
    assert state(deposit) == "chargeback_reversed"
    assert money_events(deposit) == ["deposit_completed", "deposit_charged_back", "chargeback_reversed"]
    assert owed(player) == (30_00, 0)
    assert_invariants()


@pytest.mark.django_db
def test_a_chargeback_that_overtakes_the_payments_success_completes_it_first(web, secret, player):
    # given a deposit still pending at the PSP (its payment.succeeded is lost or late)
    deposit = deposit_in_state("pending_provider", player=player, amount=20_00)
    method = {"token": "pm_late", "kind": "card", "label": "Visa •••• 0005", "fingerprint": "0005"}
    # when the chargeback arrives, then the late success
    assert outcome_of(send_event(web, secret, CHARGED_BACK, payment_data(deposit, payment_method=method))) == "applied"
    assert outcome_of(send_event(web, secret, "payment.succeeded", payment_data(deposit))) == "no_change"
    # then the deposit was completed (with its method) and charged back, never moving backwards
    stored = Deposit.objects.get(pk=deposit.pk)
    assert stored.state == "charged_back" and stored.payment_method.label == "Visa •••• 0005"
    assert money_events(deposit) == ["deposit_completed", "deposit_charged_back"]
    assert owed(player) == (0, 0)
    assert_invariants()


@pytest.mark.django_db
def test_disputes_of_a_failed_deposit_conflict_and_move_nothing(web, secret, player):
    deposit = deposit_in_state("failed", player=player)
    with expect_no_change(audit_actions=("webhook.accepted", "webhook.accepted")):
        assert outcome_of(send_event(web, secret, CHARGED_BACK, payment_data(deposit))) == "conflict"
        assert outcome_of(send_event(web, secret, REVERSED, payment_data(deposit))) == "conflict"


@pytest.mark.django_db
def test_a_chargeback_of_another_amount_is_a_mismatch_and_moves_nothing(web, secret, player):
    deposit = deposit_with(player, 30_00, method=card())
    with expect_no_change(audit_actions=("webhook.accepted",)):
        assert outcome_of(send_event(web, secret, CHARGED_BACK, payment_data(deposit, amount=10_00))) == "mismatch"


@pytest.mark.django_db
def test_another_casinos_account_cannot_dispute_our_deposit(web, player):
    deposit = deposit_with(player, 30_00, method=card())
    other = ProviderAccountFactory()
    with expect_no_change(audit_actions=("webhook.accepted", "webhook.accepted")):
        for event in (CHARGED_BACK, REVERSED):
            outcome = outcome_of(send_event(web, other.webhook_secrets[0], event, payment_data(deposit)))
            assert outcome == "unknown_object"
    assert state(deposit) == "completed"


@pytest.mark.django_db
def test_an_unsigned_chargeback_is_refused_and_changes_nothing(web, player):
    deposit = deposit_with(player, 30_00, method=card())
    event_id, body = envelope(CHARGED_BACK, payment_data(deposit))
    with expect_no_change():
        response = post_event(web, signed_headers("whsec_" + "A" * 32, event_id, body), body)
    assert response.status_code == 401 and state(deposit) == "completed"


@pytest.mark.django_db
def test_the_sandbox_charges_back_a_paid_payment_and_the_casino_follows(web, player, clean_throttle):
    # given a deposit paid at the (in-process) sandbox with a card, credited
    answer = deposit_request(client_for(player), "25.00", "EUR").json()
    engine.complete_checkout(answer["provider_reference"], "paid", method="card")
    deliver_all(web)
    # when the sandbox charges it back, then reverses the chargeback
    engine.dispute(answer["provider_reference"], "chargeback")
    assert deliver_all(web) == 1
    assert (state(Deposit(pk=answer["id"])), owed(player)) == ("charged_back", (0, 0))
    engine.dispute(answer["provider_reference"], "chargeback-reversal")
    assert deliver_all(web) == 1
    # then the casino's deposit followed both, and the money is back
    assert (state(Deposit(pk=answer["id"])), owed(player)) == ("chargeback_reversed", (25_00, 0))
    assert_invariants()


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_dispute_api_needs_the_merchants_key_and_a_paid_payment(sandbox_service, account, merchant):
    session = provider_for(account).create_payment(reference="dep-9", amount=25_00, currency="EUR")
    url = f"{sandbox_service}/v1/payments/{session.provider_reference}"
    key = {"Authorization": f"Bearer {account.api_key}"}
    # an open payment cannot be charged back
    assert http("POST", f"{url}/chargeback", json_body={}, headers=key)[0] == 409
    engine.complete_checkout(session.provider_reference, "paid", method="card")
    # another merchant's key does not find it, and no key is refused
    stranger = ProviderAccountFactory()
    assert (
        http("POST", f"{url}/chargeback", json_body={}, headers={"Authorization": f"Bearer {stranger.api_key}"})[0]
        == 404
    )
    assert http("POST", f"{url}/chargeback", json_body={})[0] == 401
    # the merchant's key charges it back (once), then reverses it
    status, body, _ = http("POST", f"{url}/chargeback", json_body={"reason": "Card stolen"}, headers=key)
    assert status == 200 and json.loads(body)["dispute"] == "charged_back"
    assert http("POST", f"{url}/chargeback", json_body={}, headers=key)[0] == 200
    assert http("POST", f"{url}/chargeback-reversal", json_body={}, headers=key)[0] == 200
    deliveries = [
        (d.event_type, json.loads(d.payload)["data"].get("reason")) for d in SandboxDelivery.objects.order_by("id")
    ]
    assert deliveries == [
        ("payment.succeeded", None),
        (CHARGED_BACK, "Card stolen"),
        (REVERSED, "Dispute won by the merchant"),
    ]
    assert SandboxPayment.objects.get().status == "paid"  # settled on its day; the dispute is apart
    # and a body that is not a JSON object is refused, as the page's field that is not a step
    for body in ([], "chargeback", 7):
        assert http("POST", f"{url}/chargeback", json_body=body, headers=key)[0] == 400
    checkout = engine.checkout_url(SandboxPayment.objects.get(), sandbox_service)
    assert http("POST", checkout, json_body={"dispute": []})[0] == 400


@pytest.mark.django_db(transaction=True)
def test_the_checkout_page_offers_the_chargeback_buttons(sandbox_service, account):
    session = provider_for(account).create_payment(reference="dep-10", amount=25_00, currency="EUR")
    engine.complete_checkout(session.provider_reference, "paid", method="card")
    assert 'data-testid="chargeback"' in http("GET", session.checkout_url)[1].decode()
    page = http("POST", session.checkout_url, form={"dispute": "chargeback"})[1].decode()
    assert "Charged back." in page and 'data-testid="chargeback-reversal"' in page
    page = http("POST", session.checkout_url, form={"dispute": "chargeback-reversal"})[1].decode()
    assert "Chargeback reversed." in page
    assert list(SandboxDelivery.objects.order_by("id").values_list("event_type", flat=True)) == [
        "payment.succeeded",
        CHARGED_BACK,
        REVERSED,
    ]


# --- a second chargeback after the reversal ------------------------------------------------------

SECOND = "payment.second_chargeback"
# The money events of a deposit charged back, reversed and charged back again, in order.
EVERY_DISPUTE_EVENT = ["deposit_completed", "deposit_charged_back", "chargeback_reversed", "deposit_charged_back_again"]


@pytest.mark.django_db
def test_a_second_chargeback_after_the_reversal_takes_the_money_again_once(web, secret, player):
    deposit = deposit_with(player, 30_00, method=card())
    for event in (CHARGED_BACK, REVERSED):
        assert outcome_of(send_event(web, secret, event, payment_data(deposit))) == "applied"
    assert owed(player) == (30_00, 0)
    # when the card holder's bank disputes again, the PSP resends it, and sends the same news under another id
    event_id, body = envelope(SECOND, payment_data(deposit, reason="Arbitration chargeback"))
    assert outcome_of(post_event(web, signed_headers(secret, event_id, body), body)) == "applied"
    assert json.loads(post_event(web, signed_headers(secret, event_id, body), body).content)["duplicate"] is True
    assert outcome_of(send_event(web, secret, SECOND, payment_data(deposit))) == "no_change"
    # and a late copy of the first chargeback or of the reversal changes nothing
    for late in (CHARGED_BACK, REVERSED):
        assert outcome_of(send_event(web, secret, late, payment_data(deposit))) == "no_change"
    # then the money left once more, for good
    assert state(deposit) == "charged_back_again"
    assert money_events(deposit) == EVERY_DISPUTE_EVENT
    assert owed(player) == (0, 0)
    assert_invariants()


@pytest.mark.django_db
def test_a_second_chargeback_that_overtakes_everything_applies_each_step_in_order(web, secret, player):
    # given a deposit whose success, chargeback and reversal webhooks have not reached us yet
    deposit = deposit_in_state("pending_provider", player=player)
    # when the second chargeback arrives first
    assert outcome_of(send_event(web, secret, SECOND, payment_data(deposit))) == "applied"
    # then the deposit went through every step once, in order, and ends charged back again
    assert state(deposit) == "charged_back_again"
    assert money_events(deposit) == EVERY_DISPUTE_EVENT
    assert list(deposit.transitions.order_by("id").values_list("to_state", flat=True))[-4:] == [
        "completed",
        "charged_back",
        "chargeback_reversed",
        "charged_back_again",
    ]
    # and the late ones change nothing
    for late in ("payment.succeeded", CHARGED_BACK, REVERSED):
        assert outcome_of(send_event(web, secret, late, payment_data(deposit))) == "no_change"
    assert Wallet.objects.get(player=player, currency="EUR").balance_available == 0
    assert_invariants()


@pytest.mark.django_db
def test_a_second_chargeback_of_a_failed_or_foreign_or_other_amount_deposit_moves_nothing(web, secret, player):
    failed = deposit_in_state("failed", player=player)
    ours = deposit_with(player, 30_00, method=card())
    other = ProviderAccountFactory()
    with expect_no_change(audit_actions=("webhook.accepted",) * 3):
        assert outcome_of(send_event(web, secret, SECOND, payment_data(failed))) == "conflict"
        assert outcome_of(send_event(web, secret, SECOND, payment_data(ours, amount=10_00))) == "mismatch"
        stranger = send_event(web, other.webhook_secrets[0], SECOND, payment_data(ours))
        assert outcome_of(stranger) == "unknown_object"
    assert state(ours) == "completed"


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_charges_back_again_only_after_a_reversal(sandbox_service, account, merchant):
    session = provider_for(account).create_payment(reference="dep-11", amount=25_00, currency="EUR")
    url = f"{sandbox_service}/v1/payments/{session.provider_reference}"
    key = {"Authorization": f"Bearer {account.api_key}"}
    engine.complete_checkout(session.provider_reference, "paid", method="card")
    # not before the first chargeback was reversed
    assert http("POST", f"{url}/second-chargeback", json_body={}, headers=key)[0] == 409
    assert http("POST", f"{url}/chargeback", json_body={}, headers=key)[0] == 200
    assert http("POST", f"{url}/second-chargeback", json_body={}, headers=key)[0] == 409
    assert http("POST", f"{url}/chargeback-reversal", json_body={}, headers=key)[0] == 200
    # another merchant's key does not find it; the merchant's does (once)
    stranger = {"Authorization": f"Bearer {ProviderAccountFactory().api_key}"}
    assert http("POST", f"{url}/second-chargeback", json_body={}, headers=stranger)[0] == 404
    status, body, _ = http("POST", f"{url}/second-chargeback", json_body={"reason": "Arbitration"}, headers=key)
    assert status == 200 and json.loads(body)["dispute"] == "charged_back_again"
    assert http("POST", f"{url}/second-chargeback", json_body={}, headers=key)[0] == 200
    assert list(SandboxDelivery.objects.order_by("id").values_list("event_type", flat=True)) == [
        "payment.succeeded",
        CHARGED_BACK,
        REVERSED,
        SECOND,
    ]
    # and its settlement report lists each step on its day
    kinds = sorted(
        row["type"] for row in engine.settlement_rows(merchant, SandboxPayment.objects.get().completed_at.date())
    )
    assert kinds == ["chargeback", "chargeback_reversal", "payment", "second_chargeback"]


@pytest.mark.django_db(transaction=True)
def test_the_checkout_page_offers_a_second_chargeback_after_the_reversal(sandbox_service, account):
    session = provider_for(account).create_payment(reference="dep-12", amount=25_00, currency="EUR")
    engine.complete_checkout(session.provider_reference, "paid", method="card")
    http("POST", session.checkout_url, form={"dispute": "chargeback"})
    page = http("POST", session.checkout_url, form={"dispute": "chargeback-reversal"})[1].decode()
    assert "Chargeback reversed." in page and 'data-testid="second-chargeback"' in page
    page = http("POST", session.checkout_url, form={"dispute": "second-chargeback"})[1].decode()
    assert "Charged back again." in page and 'data-testid="second-chargeback"' not in page
