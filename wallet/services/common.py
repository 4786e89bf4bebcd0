"""Checks and row locks shared by the deposit, withdrawal and payout services.

Lock order, everywhere: the transaction row (deposit or withdrawal), then its payout
attempt, then the wallet. No service locks two wallets, so there is no cycle.
"""

import uuid

from wallet.audit import record_refusal
from wallet.errors import (
    NotFound,
    PaymentLimitExceeded,
    ReviewReasonRequired,
    TenantSuspended,
    ValidationFailed,
)
from wallet.models import Actor, Deposit, Player, Wallet, Withdrawal
from wallet.models.audit import ActorType
from wallet.money import MAX_MINOR_UNITS
from wallet.unit_of_work import lock_row


def ensure_tenant_active(tenant) -> None:
    if not tenant.is_active:
        raise TenantSuspended(f"{tenant.name} is suspended; no new payments can be made.")


def ensure_currency_allowed(tenant, currency: str) -> None:
    if currency not in tenant.allowed_currencies:
        raise ValidationFailed(
            f"{currency} is not accepted by {tenant.name}.",
            errors={"currency": [f"Must be one of: {', '.join(tenant.allowed_currencies)}."]},
        )


def ensure_positive(amount: int) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed(
            "Amount must be a positive whole number of minor units.", errors={"amount": ["Must be greater than zero."]}
        )
    if amount > MAX_MINOR_UNITS:
        raise ValidationFailed("Amount is too large.", errors={"amount": ["Amount is too large."]})


def ensure_reason(actor: Actor, reason: str) -> str:
    """Operators must say why they decide; the reason goes to history and audit."""
    reason = (reason or "").strip()
    if actor.type == ActorType.OPERATOR and not reason:
        raise ReviewReasonRequired("Give a reason for this decision.")
    return reason


def lock_wallet_for_update(player: Player, currency: str, *, create: bool) -> Wallet | None:
    """Lock the player's wallet in `currency`, creating it first if asked.

    INSERT .. ON CONFLICT DO NOTHING makes concurrent first deposits safe: both
    insert-or-skip, then both wait for the same row lock.
    """
    wallet = lock_row(Wallet, "player_id = %s AND currency = %s", [player.pk, currency])
    if wallet is None and create:
        Wallet.objects.bulk_create(
            [Wallet(tenant_id=player.tenant_id, player=player, currency=currency)], ignore_conflicts=True
        )
        wallet = lock_row(Wallet, "player_id = %s AND currency = %s", [player.pk, currency])
    return wallet


def lock_wallet_of(tx) -> Wallet:
    return lock_row(Wallet, "id = %s", [tx.wallet_id])


def lock_deposit(deposit) -> Deposit:
    return _lock_transaction(Deposit, deposit, "No such deposit.")


def lock_withdrawal(withdrawal) -> Withdrawal:
    return _lock_transaction(Withdrawal, withdrawal, "No such withdrawal.")


def _lock_transaction(model, obj_or_id, not_found: str):
    pk = getattr(obj_or_id, "pk", obj_or_id)
    try:
        pk = pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
    except ValueError:
        raise NotFound(not_found) from None
    row = lock_row(model, "id = %s", [pk])
    if row is None:
        raise NotFound(not_found)
    return row


def audit_limit_refusal(refusal: PaymentLimitExceeded, *, player: Player, actor: Actor) -> None:
    record_refusal(
        tenant=player.tenant_id,
        actor=actor,
        action="limit.refused",
        target=player,
        reason=refusal.detail,
        data={"error_code": refusal.error_code, **refusal.problem_fields()},
    )
