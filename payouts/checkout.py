"""Handing a new deposit to the tenant's PSP: the call happens outside any transaction.

create_deposit commits first (its wallet lock guards the daily limit); then the PSP
opens a hosted checkout; then mark_deposit_pending records where the player pays.
"""

import logging

from core.actors import Actor
from payouts.providers import ProviderRejected, provider_for
from wallet.models import Deposit, DepositState
from wallet.services import fail_deposit, mark_deposit_pending

log = logging.getLogger(__name__)


def start_checkout(deposit) -> Deposit:
    """Ask the PSP for a checkout; returns the deposit in pending_provider (or failed).

    Idempotent: a deposit already at the provider is returned as it is, and the PSP
    keys payments by our deposit id, so asking twice opens one payment. Transient
    PSP errors (ProviderUnavailable, ProviderTimeout) propagate: the deposit stays
    `created` and the caller or the sweeper asks again.
    """
    deposit = deposit if isinstance(deposit, Deposit) else Deposit.objects.get(pk=deposit)
    if deposit.state != DepositState.CREATED:
        return deposit
    provider = provider_for(deposit.tenant)
    actor = Actor.system("checkout")
    try:
        session = provider.create_payment(
            reference=str(deposit.pk),
            amount=deposit.amount,
            currency=deposit.currency,
            customer=str(deposit.player_id),
        )
    except ProviderRejected as refusal:
        # The PSP answered no: the deposit was at the provider and failed there.
        log.warning("PSP refused deposit %s: %s", deposit.pk, refusal)
        mark_deposit_pending(deposit, actor=actor)
        return fail_deposit(deposit, actor=Actor.psp(provider.name), reason=f"Refused by the provider: {refusal}")
    return mark_deposit_pending(
        deposit, actor=actor, provider_reference=session.provider_reference, checkout_url=session.checkout_url
    )
