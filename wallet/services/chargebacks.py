"""Chargebacks (ARCHITECTURE section 16): completed -> charged_back -> chargeback_reversed -> charged_back_again.

A chargeback takes the deposit's amount back out of the casino: it debits the player's
available balance as far as it goes, and what available cannot cover becomes a receivable
(the player owes it; wallets never go below zero). Money held for a withdrawal is not
taken: it stays held for the withdrawal it belongs to, and the open receivable restricts the
account (no new withdrawals, no approvals, no play) until deposits, a rejected withdrawal's
release or a reversal repay it (wallet.ledger, receivable first). A reversal gives the amount
back, receivable first. The card holder's bank may dispute again after the casino won (a
second, or arbitration, chargeback): the money goes out again as the first time, and that
is final.

Each service is one transaction: the deposit's row lock, then the wallet's, then state,
ledger, history and audit together; asking again for the state the deposit is in is a no-op.
"""

from django.db import transaction

from core.actors import Actor
from core.unit_of_work import UnitOfWork
from wallet.ledger import money_legs, post_money_event
from wallet.models import Account, Deposit, DepositState, LedgerEvent
from wallet.transitions import apply_transition

from .common import lock_deposit, lock_wallet_of


def charge_back_deposit(deposit, *, actor: Actor, reason: str = "") -> Deposit:
    """The card holder's dispute took a completed deposit's money back (-> charged_back).

    Debits available up to the amount; the rest is the player's receivable. The audit event
    carries the postings on the player's accounts: `available` (minus what it covered) and
    `receivable` (minus what the player now owes).
    """
    return _dispute(deposit, "charge_back", LedgerEvent.DEPOSIT_CHARGED_BACK, actor=actor, reason=reason)


def reverse_chargeback(deposit, *, actor: Actor, reason: str = "") -> Deposit:
    """The casino won the dispute: the money comes back (-> chargeback_reversed), repaying the receivable first."""
    return _dispute(deposit, "reverse_chargeback", LedgerEvent.CHARGEBACK_REVERSED, actor=actor, reason=reason)


def charge_back_deposit_again(deposit, *, actor: Actor, reason: str = "") -> Deposit:
    """A second chargeback after the reversal took the money back again (-> charged_back_again, final).

    Debits available up to the amount, the rest the player owes, as the first chargeback did.
    """
    return _dispute(deposit, "charge_back_again", LedgerEvent.DEPOSIT_CHARGED_BACK_AGAIN, actor=actor, reason=reason)


_FROM = {
    "charge_back": DepositState.COMPLETED,
    "reverse_chargeback": DepositState.CHARGED_BACK,
    "charge_back_again": DepositState.CHARGEBACK_REVERSED,
}


def _dispute(deposit, transition: str, event: str, *, actor: Actor, reason: str) -> Deposit:
    with transaction.atomic():
        deposit = lock_deposit(deposit)
        if deposit.state != _FROM[transition]:
            # The state it is already in: a no-op; any other: ILLEGAL_TRANSACTION_STATE_TRANSITION.
            apply_transition(UnitOfWork(), deposit, transition, actor=actor, reason=reason)
            return deposit
        wallet = lock_wallet_of(deposit)
        legs = money_legs(wallet, event, deposit.amount)
        uow = UnitOfWork()
        figures = {
            "amount": deposit.amount,
            "currency": deposit.currency,
            "available": legs.get(Account.PLAYER_AVAILABLE, 0),
            "receivable": legs.get(Account.PLAYER_RECEIVABLE, 0),
        }
        apply_transition(uow, deposit, transition, actor=actor, reason=reason, data=figures)
        post_money_event(wallet=wallet, event_type=event, source=deposit, uow=uow)
        uow.flush()
        return deposit
