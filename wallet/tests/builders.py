"""Deposits and withdrawals in any state, reached only through the real services."""

from core.actors import Actor
from players.tests.factories import PlayerFactory
from tenants.tests.factories import CurrencyLimitFactory, OperatorFactory
from wallet.models import Deposit, PayoutAttempt, Withdrawal
from wallet.services import (
    approve_withdrawal,
    cancel_withdrawal,
    complete_deposit,
    create_deposit,
    fail_deposit,
    mark_deposit_pending,
    mark_withdrawal_paid,
    record_payout_failed,
    reject_withdrawal,
    request_withdrawal,
    start_payout,
)

from .factories import fund

AMOUNT = 25_00  # 25.00 EUR
PSP = Actor.psp("sandbox")
SYSTEM = Actor.system("tests")
REASON = "KYC documents checked"


def operator_of(tenant) -> Actor:
    return Actor.operator(OperatorFactory(tenant=tenant).user)


def player_of(player) -> Actor:
    return Actor.player(player.user)


def set_limits(tenant, currency: str = "EUR", **limits):
    """Give the tenant's policy per-currency limits (minor units), e.g. daily_deposit_limit=100_00."""
    return CurrencyLimitFactory(policy=tenant.policy, currency=currency, **limits)


def deposit(player, amount: int, currency: str = "EUR") -> Deposit:
    """The player opens a deposit (create_deposit), as the player API would."""
    return create_deposit(player=player, amount=amount, currency=currency, actor=player_of(player))


def withdraw(player, amount: int, currency: str = "EUR") -> Withdrawal:
    """The player asks for a withdrawal (request_withdrawal), as the player API would."""
    return request_withdrawal(player=player, amount=amount, currency=currency, actor=player_of(player))


def pending_attempt(withdrawal) -> PayoutAttempt:
    return PayoutAttempt.objects.get(withdrawal_id=withdrawal.pk, status=PayoutAttempt.Status.PENDING)


def _approve(w, op):
    # A reviewer of its own: whoever acts next (mark paid) must not be the approver (four eyes).
    approve_withdrawal(w, actor=operator_of(w.tenant), reason=REASON)


def _reject(w, op):
    reject_withdrawal(w, actor=op, reason=REASON)


def _cancel(w, op):
    cancel_withdrawal(w, actor=player_of(w.player))


def _start(w, op):
    start_payout(w, actor=SYSTEM, provider="sandbox")


def _fail_payout(w, op):
    record_payout_failed(pending_attempt(w), actor=PSP, reason="beneficiary bank unreachable")


def _mark_paid(w, op):
    mark_withdrawal_paid(w, actor=op, reason=REASON)


WITHDRAWAL_PATHS = {
    "requested": [],
    "approved": [_approve],
    "rejected": [_reject],
    "canceled": [_cancel],
    "payout_pending": [_approve, _start],
    "payout_failed": [_approve, _start, _fail_payout],
    "paid": [_approve, _mark_paid],
}
WITHDRAWAL_STATES = list(WITHDRAWAL_PATHS)


def withdrawal_in_state(state: str, *, player=None, amount: int = AMOUNT, currency: str = "EUR", funded: bool = True):
    """A withdrawal of `amount` that went requested -> ... -> `state`, funded first unless told not to."""
    player = player or PlayerFactory()
    if funded:
        fund(player, amount, currency)
    withdrawal = withdraw(player, amount, currency)
    operator = operator_of(player.tenant) if WITHDRAWAL_PATHS[state] else None
    for step in WITHDRAWAL_PATHS[state]:
        step(withdrawal, operator)
    return Withdrawal.objects.get(pk=withdrawal.pk)


DEPOSIT_PATHS = {
    "created": [],
    "pending_provider": [lambda d: mark_deposit_pending(d, actor=PSP, provider_reference=f"psp-{d.pk}")],
    "completed": [],
    "failed": [],
}
DEPOSIT_PATHS["completed"] = [*DEPOSIT_PATHS["pending_provider"], lambda d: complete_deposit(d, actor=PSP)]
DEPOSIT_PATHS["failed"] = [*DEPOSIT_PATHS["pending_provider"], lambda d: fail_deposit(d, actor=PSP, reason="declined")]
DEPOSIT_STATES = list(DEPOSIT_PATHS)


def deposit_in_state(state: str, *, player=None, amount: int = AMOUNT, currency: str = "EUR") -> Deposit:
    player = player or PlayerFactory()
    opened = deposit(player, amount, currency)
    for step in DEPOSIT_PATHS[state]:
        step(opened)
    return Deposit.objects.get(pk=opened.pk)
