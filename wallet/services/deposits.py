"""Deposit services: create, hand to the provider, complete, fail.

Each is one database transaction holding the deposit's row lock (and the wallet's
where money moves), writing state, ledger, history and audit together.
"""

from django.db import transaction
from django.utils import timezone

from core.actors import Actor
from core.unit_of_work import UnitOfWork
from players.errors import KycRequired, PlayerExcluded, PlayerLimitExceeded
from players.models import LimitKind, Player
from wallet import limits, protection
from wallet.errors import TenantPaymentLimitExceeded
from wallet.ledger import post_money_event
from wallet.methods import MethodDetails, record_method
from wallet.models import Deposit, DepositState, LedgerEvent
from wallet.transitions import apply_transition, record_creation

from .common import (
    audit_limit_refusal,
    audit_payment_refusal,
    ensure_currency_allowed,
    ensure_positive,
    ensure_tenant_active,
    lock_deposit,
    lock_wallet_and_limits,
    lock_wallet_of,
)


def create_deposit(
    *, player: Player, amount: int, currency: str, actor: Actor, provider: str = "", deposit_id=None
) -> Deposit:
    """Open a deposit in `created`, reserving it against the daily and the player's own limits.

    Refused while the player is excluded (PLAYER_EXCLUDED), past the currency's KYC
    threshold without a verified identity (KYC_REQUIRED), and over the tenant's daily
    limit or a deposit limit the player set (PLAYER_LIMIT_EXCEEDED). In-flight deposits
    count towards the limits, so parallel open deposits cannot get around them. With
    `deposit_id` (chosen by the caller before a crash could happen), a second call
    returns the deposit the first one created.
    """
    if deposit_id is not None:
        existing = Deposit.objects.filter(pk=deposit_id, player=player).first()
        if existing is not None:
            return existing
    tenant = player.tenant
    ensure_positive(amount)
    ensure_tenant_active(tenant)
    ensure_currency_allowed(tenant, currency)
    try:
        with transaction.atomic():
            locked = lock_wallet_and_limits(player, currency, create=True)
            wallet, currency_limits = locked.wallet, locked.limits
            limits.check_amount_bounds(currency_limits, amount, currency)
            now = timezone.now()
            protection.ensure_not_excluded(player, now)
            threshold = currency_limits.kyc_deposit_threshold if currency_limits else None
            protection.ensure_kyc_for_deposit(wallet, threshold, locked.player.verified)
            limits.check_daily_limit(
                tenant=tenant, limits=currency_limits, wallet=wallet, action=limits.DEPOSIT, amount=amount
            )
            protection.check_player_limits(wallet, LimitKind.DEPOSIT, amount, now)
            uow = UnitOfWork()
            deposit = Deposit(
                tenant=tenant, player=player, wallet=wallet, amount=amount, currency=currency, provider=provider
            )
            if deposit_id is not None:
                deposit.id = deposit_id
            record_creation(uow, deposit, actor=actor)
            uow.flush()
            return deposit
    except (TenantPaymentLimitExceeded, PlayerLimitExceeded) as refusal:
        audit_limit_refusal(refusal, player=player, actor=actor)
        raise
    except (PlayerExcluded, KycRequired) as refusal:
        audit_payment_refusal(refusal, player=player, actor=actor, action="deposit.refused")
        raise


def mark_deposit_pending(deposit, *, actor: Actor, provider_reference: str = "", checkout_url: str = "") -> Deposit:
    """The provider accepted the payment request; the player is sent to its checkout."""
    changes = {"provider_reference": provider_reference, "checkout_url": checkout_url}
    with transaction.atomic():
        deposit = lock_deposit(deposit)
        uow = UnitOfWork()
        apply_transition(
            uow,
            deposit,
            "mark_pending",
            actor=actor,
            changes={field: value for field, value in changes.items() if value},
            data={"provider_reference": provider_reference},
        )
        uow.flush()
        return deposit


def complete_deposit(deposit, *, actor: Actor, reason: str = "", method: MethodDetails | None = None) -> Deposit:
    """Credit the player's available balance: the provider confirmed the payment.

    `method` is what the player paid with, as the PSP reported it: the player's payment method
    is recorded (or found) and the deposit linked to it, in the same transaction.
    """
    with transaction.atomic():
        deposit = lock_deposit(deposit)
        uow = UnitOfWork()
        changes = {"completed_at": uow.now}
        if method is not None and deposit.state != DepositState.COMPLETED and deposit.payment_method_id is None:
            provider = deposit.provider or actor.label
            changes["payment_method"] = record_method(uow, deposit, method, provider=provider, actor=actor)
        if apply_transition(uow, deposit, "complete", actor=actor, reason=reason, changes=changes):
            wallet = lock_wallet_of(deposit)
            post_money_event(wallet=wallet, event_type=LedgerEvent.DEPOSIT_COMPLETED, source=deposit, uow=uow)
        uow.flush()
        return deposit


def fail_deposit(deposit, *, actor: Actor, reason: str = "") -> Deposit:
    """The provider reported failure; nothing was credited, so no money moves."""
    with transaction.atomic():
        deposit = lock_deposit(deposit)
        uow = UnitOfWork()
        apply_transition(uow, deposit, "fail", actor=actor, reason=reason)
        uow.flush()
        return deposit
