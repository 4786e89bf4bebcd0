"""Payouts go to the withdrawal's destination: the payment method's PSP token travels through the PSP
contract, and the sandbox pays it, or refuses a destination it never issued or cannot pay out to."""

import json

import pytest

from payouts import dispatch
from payouts.providers import ProviderRejected, provider_for
from payouts.sandbox import engine
from payouts.sandbox.models import SandboxPayout
from wallet.models import Deposit, PaymentMethod, Withdrawal
from wallet.services import approve_withdrawal, request_withdrawal
from wallet.tests.api.helpers import balances, client_for, deposit_request
from wallet.tests.builders import REASON, operator_of, player_of
from wallet.tests.factories import card, funded_method
from wallet.tests.invariants import assert_invariants

from .helpers import attempts_of, deliver_all, http, money_events


def pay_in(player, web, amount="40.00", **method) -> PaymentMethod:
    """A deposit through the API, paid at the in-process checkout with `method`, its webhook delivered."""
    response = deposit_request(client_for(player), amount, "EUR")
    engine.complete_checkout(response.json()["provider_reference"], "paid", **method)
    deliver_all(web)
    return PaymentMethod.objects.get(pk=Deposit.objects.get(pk=response.json()["id"]).payment_method_id)


def approved_to(player, method, amount: int) -> Withdrawal:
    withdrawal = request_withdrawal(
        player=player, amount=amount, currency="EUR", actor=player_of(player), payment_method=method
    )
    approve_withdrawal(withdrawal, actor=operator_of(player.tenant), reason=REASON)
    return withdrawal


@pytest.mark.django_db
def test_the_payout_goes_to_the_destinations_psp_token(web, player, clean_throttle):
    # given a bank account the player deposited with, and an approved withdrawal to it
    iban = pay_in(player, web, method="bank_account", fingerprint="DE89370400440532013000")
    withdrawal = approved_to(player, iban, 40_00)
    # when the dispatcher sends it and the PSP reports it paid
    assert dispatch.dispatch_payout(withdrawal.pk) == "accepted, outcome to follow"
    deliver_all(web)
    # then the PSP paid that very instrument, and the withdrawal is paid
    (payout,) = SandboxPayout.objects.all()
    assert (payout.destination, payout.amount, payout.status) == (iban.token, 40_00, "succeeded")
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "paid"
    assert money_events(withdrawal) == ["withdraw_requested", "withdraw_paid"]
    assert balances(player) == (0, 0)
    assert_invariants()


@pytest.mark.django_db
def test_a_destination_the_psp_never_issued_is_refused_and_the_money_stays_held(web, player, clean_throttle):
    # given a method the sandbox PSP knows nothing of (recorded from another PSP's report)
    stranger = funded_method(player, 25_00, card("4000000000000077"))
    withdrawal = approved_to(player, stranger, 25_00)
    # when the dispatcher sends the payout
    assert dispatch.dispatch_payout(withdrawal.pk) == "rejected by the PSP"
    # then the attempt failed for good (no automatic retry), nothing was created at the PSP, the money stays held
    (attempt,) = attempts_of(withdrawal)
    assert (attempt.status, attempt.retryable) == ("failed", False)
    assert "Unknown destination" in attempt.failure_reason
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "payout_failed"
    assert not SandboxPayout.objects.exists() and balances(player) == (0, 25_00)


@pytest.mark.django_db(transaction=True)
def test_over_http_the_destination_travels_and_an_unusable_one_is_refused(sandbox_service, account, merchant):
    # given two instruments the PSP issued at its checkout: a card, and a prepaid card without payouts
    card_token = engine.instrument_for(merchant, "7", "card", "4242424242424242").token
    prepaid = engine.instrument_for(merchant, "7", "card", "5200828282828210", payout_capable=False).token
    provider = provider_for(account)
    # when a payout is sent to the card, then it is accepted and the PSP reports the destination
    accepted = provider.create_payout(
        idempotency_key="k-1", amount=10_00, currency="EUR", reference="WD-1", destination=card_token
    )
    assert accepted.status == "pending"
    assert SandboxPayout.objects.get(idempotency_key="k-1").destination == card_token
    status, body, _ = http(
        "GET", f"{sandbox_service}/v1/payouts/k-1", headers={"Authorization": f"Bearer {account.api_key}"}
    )
    assert status == 200 and json.loads(body)["destination"] == card_token
    # when one is sent to the prepaid card or to a token it never issued, then each is refused, nothing created
    for destination in (prepaid, "pm_unknown"):
        with pytest.raises(ProviderRejected):
            provider.create_payout(
                idempotency_key=f"k-{destination}",
                amount=10_00,
                currency="EUR",
                reference="WD-2",
                destination=destination,
            )
    assert SandboxPayout.objects.count() == 1
