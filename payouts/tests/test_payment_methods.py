"""Payment methods recorded from the PSP's deposit outcome: the sandbox checkout lets the player
choose a card, a bank account or an e-wallet, and its signed webhook describes it."""

import json

import pytest

from core.models import AuditEvent
from payouts.models import WebhookEvent
from payouts.sandbox import engine
from payouts.sandbox.models import SandboxDelivery, SandboxPayment
from wallet.models import Deposit, PaymentMethod
from wallet.tests.api.helpers import balances, client_for, deposit_request

from .helpers import deliver_all, http, payment_data, send_event


def _pay(player, web, amount="25.00", **method) -> Deposit:
    """The player deposits through the API and pays at the (in-process) checkout with `method`."""
    response = deposit_request(client_for(player), amount, "EUR")
    assert response.status_code == 201, response.content
    engine.complete_checkout(response.json()["provider_reference"], "paid", **method)
    assert deliver_all(web) == 1
    return Deposit.objects.get(pk=response.json()["id"])


@pytest.mark.django_db
def test_paying_with_a_card_records_the_players_method_and_links_the_deposit(player, web, clean_throttle):
    # when the player pays 25.00 EUR with a card at the checkout
    deposit = _pay(player, web, method="card", fingerprint="4242424242424242")
    # then the deposit is completed, credited once and linked to the player's new card
    assert deposit.state == "completed" and balances(player) == (25_00, 0)
    method = PaymentMethod.objects.get(player=player)
    assert deposit.payment_method_id == method.pk
    assert (method.kind, method.label, method.fingerprint, method.payout_capable) == (
        "card",
        "Visa •••• 4242",
        "4242424242424242",
        True,
    )
    assert (method.provider, method.tenant_id) == ("sandbox", player.tenant_id)
    assert method.token.startswith("pm_") and method.last_used_at is not None
    # and its first sighting is in the audit trail, with the deposit that brought it
    (added,) = AuditEvent.objects.filter(action="payment_method.added")
    assert (added.target_type, added.target_id, added.data["deposit"]) == (
        "paymentmethod",
        str(method.pk),
        str(deposit.pk),
    )


@pytest.mark.django_db
def test_the_same_card_again_is_the_same_method_another_kind_is_another(player, web, clean_throttle):
    # given a deposit paid with the player's card
    first = _pay(player, web, method="card")
    # when the player pays again with the same card, then with a bank account
    second = _pay(player, web, method="card")
    third = _pay(player, web, method="bank_account")
    # then the card is one method used twice, and the bank account a second method
    assert first.payment_method_id == second.payment_method_id != third.payment_method_id
    assert sorted(PaymentMethod.objects.filter(player=player).values_list("kind", flat=True)) == [
        "bank_account",
        "card",
    ]
    assert AuditEvent.objects.filter(action="payment_method.added").count() == 2
    assert balances(player) == (75_00, 0)


@pytest.mark.django_db
def test_one_card_of_two_players_has_one_fingerprint_and_two_methods(player, other_player, web, clean_throttle):
    # when two players pay with the same card number
    mine = _pay(player, web, method="card", fingerprint="5555555555554444")
    theirs = _pay(other_player, web, method="card", fingerprint="5555555555554444")
    # then each has a method of their own, with the same fingerprint and different PSP tokens
    a, b = PaymentMethod.objects.get(pk=mine.payment_method_id), PaymentMethod.objects.get(pk=theirs.payment_method_id)
    assert (a.player_id, b.player_id) == (player.pk, other_player.pk)
    assert a.fingerprint == b.fingerprint == "5555555555554444" and a.token != b.token


@pytest.mark.django_db
def test_a_payment_without_a_method_completes_the_deposit_without_one(player, web, clean_throttle):
    # when the checkout reports no method (a script posting only outcome=paid)
    deposit = _pay(player, web)
    # then the deposit is credited and no method is recorded
    assert (deposit.state, deposit.payment_method_id) == ("completed", None)
    assert not PaymentMethod.objects.exists() and balances(player) == (25_00, 0)


@pytest.mark.django_db
def test_a_method_the_psp_describes_badly_is_noted_and_the_money_still_lands(player, account, web, clean_throttle):
    # given a pending deposit
    response = deposit_request(client_for(player), "10.00", "EUR")
    deposit = Deposit.objects.get(pk=response.json()["id"])
    # when the PSP's success names a method of an unknown kind
    bad = {"token": "pm_x", "kind": "crypto", "label": "Coins", "fingerprint": "f", "payout_capable": True}
    answer = send_event(web, account.webhook_secrets[0], "payment.succeeded", payment_data(deposit, payment_method=bad))
    # then the deposit completes without a method, and the event says why none was recorded
    assert answer.status_code == 200
    assert Deposit.objects.get(pk=deposit.pk).state == "completed" and not PaymentMethod.objects.exists()
    event = WebhookEvent.objects.get()
    assert event.outcome == "applied" and "payment method not recorded: kind must be one of" in event.outcome_detail
    assert balances(player) == (10_00, 0)


@pytest.mark.django_db
def test_another_tenants_payment_never_records_a_method_for_our_player(player, account, web, clean_throttle):
    # given our player's pending deposit and another casino's PSP account
    from payouts.tests.factories import ProviderAccountFactory

    response = deposit_request(client_for(player), "10.00", "EUR")
    deposit = Deposit.objects.get(pk=response.json()["id"])
    other = ProviderAccountFactory()
    card = {"token": "pm_foreign", "kind": "card", "label": "Visa •••• 1111", "fingerprint": "1111"}
    # when the other casino's account reports our deposit as paid with a card
    answer = send_event(web, other.webhook_secrets[0], "payment.succeeded", payment_data(deposit, payment_method=card))
    # then nothing is applied: no such deposit for that tenant, and no method for anyone
    assert json.loads(answer.content)["outcome"] == "unknown_object"
    assert Deposit.objects.get(pk=deposit.pk).state == "pending_provider" and not PaymentMethod.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_scripts_choose_the_method_at_the_checkout_url(sandbox_service, account, merchant, secret, as_json):
    # given a checkout opened over HTTP for a player (customer 42)
    from payouts.providers import provider_for, standard_webhooks

    session = provider_for(account).create_payment(reference="dep-1", amount=25_00, currency="EUR", customer="42")
    fields = {"outcome": "paid", "method": "ewallet", "fingerprint": "wallet-7781", "payout_capable": "false"}
    # when a script pays with an e-wallet that cannot receive payouts
    if as_json:
        status, body, _ = http("POST", session.checkout_url, json_body={**fields, "payout_capable": False})
    else:
        status, body, _ = http("POST", session.checkout_url, form=fields)
    assert status == 200, body
    # then the signed webhook describes the method: its token, kind, fingerprint, label and capability
    (delivery,) = SandboxDelivery.objects.all()
    message = standard_webhooks.verify([secret], engine.signed_headers(merchant, delivery), delivery.payload.encode())
    method = message.data["payment_method"]
    assert (method["kind"], method["fingerprint"], method["label"], method["payout_capable"]) == (
        "ewallet",
        "wallet-7781",
        "E-wallet •••• 7781",
        False,
    )
    payment = SandboxPayment.objects.get()
    assert (payment.customer, payment.instrument.token) == ("42", method["token"])


@pytest.mark.django_db(transaction=True)
def test_an_unknown_method_at_the_checkout_is_refused(sandbox_service, account):
    from payouts.providers import provider_for

    session = provider_for(account).create_payment(reference="dep-2", amount=25_00, currency="EUR")
    status, _, _ = http("POST", session.checkout_url, form={"outcome": "paid", "method": "cheque"})
    assert status == 400
    assert SandboxPayment.objects.get().status == "open" and not SandboxDelivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_checkout_page_offers_the_three_kinds(sandbox_service, account):
    from payouts.providers import provider_for

    session = provider_for(account).create_payment(reference="dep-3", amount=25_00, currency="EUR")
    page = http("GET", session.checkout_url)[1].decode()
    for kind in ("card", "bank_account", "ewallet"):
        assert f'data-testid="method-{kind}"' in page
    assert 'data-testid="fingerprint"' in page and 'data-testid="no-payouts"' in page
