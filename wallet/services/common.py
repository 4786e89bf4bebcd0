"""Checks and row locks shared by the deposit and withdrawal services.

Lock order, everywhere: the transaction row (deposit or withdrawal), then its payout
attempt, then the wallet. No service locks two wallets, so there is no cycle.
"""

from django.core.exceptions import ValidationError as DjangoValidationError

from wallet.audit import record_refusal
from wallet.errors import NotFound, PaymentLimitExceeded, ReviewReasonRequired, TenantSuspended, ValidationFailed
from wallet.models import Actor, Deposit, Player, Wallet, Withdrawal
from wallet.models.audit import ActorType


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
    wallets = Wallet.objects.select_for_update()
    wallet = wallets.filter(player=player, currency=currency).first()
    if wallet is None and create:
        Wallet.objects.bulk_create(
            [Wallet(tenant_id=player.tenant_id, player=player, currency=currency)], ignore_conflicts=True
        )
        wallet = wallets.get(player=player, currency=currency)
    return wallet


def lock_wallet_of(tx) -> Wallet:
    return Wallet.objects.select_for_update().get(pk=tx.wallet_id)


def lock_deposit(deposit) -> Deposit:
    pk = getattr(deposit, "pk", deposit)
    try:
        return Deposit.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=pk)
    except (Deposit.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("No such deposit.") from None


def lock_withdrawal(withdrawal) -> Withdrawal:
    pk = getattr(withdrawal, "pk", withdrawal)
    try:
        return Withdrawal.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=pk)
    except (Withdrawal.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("No such withdrawal.") from None


def audit_limit_refusal(refusal: PaymentLimitExceeded, *, player: Player, actor: Actor) -> None:
    record_refusal(
        tenant=player.tenant_id,
        actor=actor,
        action="limit.refused",
        target=player,
        reason=refusal.detail,
        data={"error_code": refusal.error_code, **refusal.problem_fields()},
    )
