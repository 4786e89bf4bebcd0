"""Checks and row locks shared by the deposit, withdrawal and payout services.

Lock order, everywhere: the transaction row (deposit or withdrawal), then its payout
attempt, then the wallet (with the player's row share-locked in the same statement where a
payment reads the player's KYC or exclusions). No service locks two wallets, and the
services that change a player's row (KYC, exclusions) lock nothing else, so there is no cycle.
"""

import uuid
from dataclasses import dataclass
from functools import cache

from django.db import connection

from core import sql
from core.actors import Actor, ActorType
from core.audit import record_in_own_transaction
from core.errors import NotFound, ReviewReasonRequired, ValidationFailed
from core.money import MAX_MINOR_UNITS
from core.sql import lock_row
from core.unit_of_work import UnitOfWork
from players.models import KycStatus, Player
from tenants.errors import TenantSuspended
from tenants.models import CurrencyLimit, PaymentPolicy
from wallet import limits
from wallet.ledger import post_money_event
from wallet.models import Deposit, Wallet, Withdrawal


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


@dataclass(frozen=True)
class PlayerState:
    """What a payment decision reads about the player and the tenant's rules, with the wallet's lock.

    Read in the same statement that locks the wallet, with the player's row share-locked,
    so a KYC change or an exclusion (which lock that row) cannot slip between the check
    and the payment.
    """

    kyc_status: str
    kyc_updated_at: object
    kyc_required_for_withdrawal: bool
    player_cancel_allowed: bool
    velocity_withdrawals_per_day: int
    closed_loop: bool
    # Section 16, read in the same statement: a receivable open in any currency (the account is
    # restricted), and whether the player has a payment method (a withdrawal must then name one).
    restricted: bool = False
    has_payment_method: bool = False

    @property
    def verified(self) -> bool:
        return self.kyc_status == KycStatus.VERIFIED


_POLICY_COLUMNS = (
    "kyc_required_for_withdrawal",
    "player_cancel_allowed",
    "velocity_withdrawals_per_day",
    "closed_loop",
)
_STATE_SELECT = (
    "p.kyc_status, p.kyc_updated_at, "
    + ", ".join(f"pp.{c}" for c in _POLICY_COLUMNS)
    # Index probes: the partial index of owing wallets, and the methods' (player, provider, token) key.
    + ", EXISTS (SELECT 1 FROM wallet_wallet r WHERE r.player_id = p.id AND r.balance_receivable > 0)"
    + ", EXISTS (SELECT 1 FROM wallet_paymentmethod m WHERE m.player_id = p.id)"
)


def _state_from(values) -> PlayerState:
    kyc, updated, *policy, restricted, has_method = values
    defaults = {name: PaymentPolicy._meta.get_field(name).default for name in _POLICY_COLUMNS}
    rules = {
        name: defaults[name] if value is None else value for name, value in zip(_POLICY_COLUMNS, policy, strict=True)
    }
    return PlayerState(
        kyc_status=kyc, kyc_updated_at=updated, restricted=restricted, has_payment_method=has_method, **rules
    )


@cache
def _wallet_and_limits_query() -> str:
    return (
        f"SELECT {sql.select_list(Wallet, 'w')}, {sql.select_list(CurrencyLimit, 'cl')}, {_STATE_SELECT} "
        "FROM wallet_wallet w JOIN wallet_player p ON p.id = w.player_id "
        "LEFT JOIN tenants_paymentpolicy pp ON pp.tenant_id = w.tenant_id "
        "LEFT JOIN tenants_currencylimit cl ON cl.policy_id = pp.id AND cl.currency = w.currency "
        "WHERE w.player_id = %s AND w.currency = %s FOR UPDATE OF w FOR SHARE OF p"
    )


_PLAYER_ONLY_QUERY = (
    f"SELECT {_STATE_SELECT} FROM wallet_player p LEFT JOIN tenants_paymentpolicy pp ON pp.tenant_id = p.tenant_id "
    "WHERE p.id = %s FOR SHARE OF p"
)


@dataclass(frozen=True)
class Locked:
    wallet: Wallet | None
    limits: CurrencyLimit | None
    player: PlayerState


def lock_wallet_and_limits(player: Player, currency: str, *, create: bool) -> Locked:
    """Lock the player's wallet in `currency` (creating it first if asked), share-lock the player,
    and read the currency's limits and the player's state.

    One round trip on the hot path. INSERT .. ON CONFLICT DO NOTHING makes concurrent
    first deposits safe: both insert-or-skip, then both wait for the same row lock.
    """
    width = sql.width(Wallet) + sql.width(CurrencyLimit)
    for attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(_wallet_and_limits_query(), [player.pk, currency])
            row = cursor.fetchone()
        if row is not None:
            return Locked(
                wallet=sql.instance_from(Wallet, row),
                limits=sql.instance_from(CurrencyLimit, row, sql.width(Wallet)),
                player=_state_from(row[width:]),
            )
        if not create or attempt:
            break
        Wallet.objects.bulk_create(
            [Wallet(tenant_id=player.tenant_id, player=player, currency=currency)], ignore_conflicts=True
        )
    with connection.cursor() as cursor:
        cursor.execute(_PLAYER_ONLY_QUERY, [player.pk])
        state = _state_from(cursor.fetchone())
    return Locked(wallet=None, limits=limits.currency_limits(player.tenant, currency), player=state)


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


def audit_limit_refusal(refusal, *, player: Player, actor: Actor) -> None:
    """A tenant limit or the player's own limit refused a payment: kept for review (limit.refused)."""
    audit_payment_refusal(refusal, player=player, actor=actor, action="limit.refused")


def audit_payment_refusal(refusal, *, player: Player, actor: Actor, action: str) -> None:
    """Audit a refused payment in its own transaction (the refusal rolled the rest back)."""
    record_in_own_transaction(
        tenant=player.tenant_id,
        actor=actor,
        action=action,
        target=player,
        reason=refusal.detail,
        data={"error_code": refusal.error_code, **refusal.problem_fields()},
    )


def post_withdrawal_event(uow: UnitOfWork, withdrawal: Withdrawal, event_type: str) -> None:
    """Lock the withdrawal's wallet (after the withdrawal, as the lock order says) and post the event."""
    post_money_event(wallet=lock_wallet_of(withdrawal), event_type=event_type, source=withdrawal, uow=uow)
