"""Payment methods: recording them from the PSP's deposit outcome, and what each has brought in.

A method's net deposits in a currency are its completed deposits less the withdrawals sent to
it that are paid or still in flight (requested, approved, payout_pending, payout_failed).
Rejected, canceled and returned withdrawals gave the money back, so they do not count; a
charged-back deposit went back to the method through the card scheme, so it does not either.
The closed-loop rule (wallet.closed_loop) is built on these figures.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection

from core.actors import Actor
from core.audit import record_event
from core.unit_of_work import UnitOfWork
from players.models import Player
from wallet.models import Deposit, DepositState, PaymentMethod, PaymentMethodKind, WithdrawalState

# Deposits whose money the casino still holds from the method (a charged-back one went back to it).
DEPOSIT_STATES_NET = (DepositState.COMPLETED, DepositState.CHARGEBACK_REVERSED)
# Withdrawals that took money back to the method, or are on their way there.
WITHDRAWAL_STATES_NET = (
    WithdrawalState.REQUESTED,
    WithdrawalState.APPROVED,
    WithdrawalState.PAYOUT_PENDING,
    WithdrawalState.PAYOUT_FAILED,
    WithdrawalState.PAID,
)


class InvalidMethod(ValueError):
    """The PSP's description of a payment method is not one we can keep."""


@dataclass(frozen=True)
class MethodDetails:
    """A payment method as the PSP describes it in a deposit's outcome."""

    kind: str
    token: str
    label: str
    fingerprint: str = ""
    payout_capable: bool = True

    @classmethod
    def from_psp(cls, data) -> "MethodDetails":
        """Read the PSP's `payment_method` object; InvalidMethod if it is not one."""
        if not isinstance(data, dict):
            raise InvalidMethod("payment_method is not an object")
        kind, token = data.get("kind"), data.get("token")
        label, fingerprint = data.get("label") or "", data.get("fingerprint") or ""
        capable = data.get("payout_capable", True)
        if kind not in PaymentMethodKind.values:
            raise InvalidMethod(f"kind must be one of {', '.join(PaymentMethodKind.values)}")
        if not isinstance(token, str) or not 0 < len(token) <= 128:
            raise InvalidMethod("token must be a string of 1 to 128 characters")
        if not isinstance(label, str) or not isinstance(fingerprint, str) or len(fingerprint) > 128:
            raise InvalidMethod("label and fingerprint must be strings (fingerprint at most 128 characters)")
        if not isinstance(capable, bool):
            raise InvalidMethod("payout_capable must be true or false")
        label = label.strip()[:64] or str(PaymentMethodKind(kind).label)
        return cls(kind=kind, token=token, label=label, fingerprint=fingerprint, payout_capable=capable)


_UPSERT = """
    INSERT INTO wallet_paymentmethod (id, tenant_id, player_id, provider, kind, token, fingerprint, label,
                                      payout_capable, created_at, last_used_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (player_id, provider, token) DO UPDATE SET last_used_at = EXCLUDED.last_used_at
    RETURNING id, (xmax = 0)
"""


def record_method(
    uow: UnitOfWork, deposit: Deposit, details: MethodDetails, *, provider: str, actor: Actor
) -> PaymentMethod:
    """The player's method for `details` (created the first time it is seen), noted as used now.

    Called by complete_deposit under the deposit's lock and before the wallet's: the upsert locks
    the method's row, which no service takes after a wallet (lock order: deposit, method, wallet).
    The first sighting is audited (payment_method.added) with the deposit's other writes.
    """
    new = PaymentMethod(
        tenant_id=deposit.tenant_id,
        player_id=deposit.player_id,
        provider=provider,
        kind=details.kind,
        token=details.token,
        fingerprint=details.fingerprint,
        label=details.label,
        payout_capable=details.payout_capable,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT,
            [
                new.id,
                new.tenant_id,
                new.player_id,
                new.provider,
                new.kind,
                new.token,
                new.fingerprint,
                new.label,
                new.payout_capable,
                uow.now,
                uow.now,
            ],
        )
        method_id, inserted = cursor.fetchone()
    method = PaymentMethod.objects.get(pk=method_id)
    if inserted:
        record_event(
            tenant=deposit.tenant_id,
            actor=actor,
            action="payment_method.added",
            target=method,
            data={
                "player": deposit.player_id,
                "deposit": str(deposit.pk),
                "kind": method.kind,
                "label": method.label,
                "fingerprint": method.fingerprint,
                "payout_capable": method.payout_capable,
            },
            uow=uow,
        )
    return method


def _in(values) -> list[str]:
    return [str(value) for value in values]


_NET_BY_METHOD = """
    SELECT payment_method_id, currency, SUM(amount) FROM (
        SELECT payment_method_id, currency, amount FROM wallet_deposit
        WHERE {where} AND payment_method_id IS NOT NULL AND state = ANY(%(deposit_states)s)
        UNION ALL
        SELECT payment_method_id, currency, -amount FROM wallet_withdrawal
        WHERE {where} AND payment_method_id IS NOT NULL AND state = ANY(%(withdrawal_states)s)
    ) moves GROUP BY payment_method_id, currency
"""


def net_deposits(*, player_id: int, wallet_id: int | None = None) -> dict:
    """{method id: {currency: net deposits}} of the player's methods (of one wallet if given)."""
    where = "wallet_id = %(wallet)s" if wallet_id is not None else "player_id = %(player)s"
    with connection.cursor() as cursor:
        cursor.execute(
            _NET_BY_METHOD.format(where=where),
            {
                "player": player_id,
                "wallet": wallet_id,
                "deposit_states": _in(DEPOSIT_STATES_NET),
                "withdrawal_states": _in(WITHDRAWAL_STATES_NET),
            },
        )
        rows = cursor.fetchall()
    result: dict = defaultdict(dict)
    for method_id, currency, amount in rows:
        result[method_id][currency] = int(amount)
    return dict(result)


@dataclass(frozen=True)
class MethodView:
    """A method with its net deposits per currency (currencies it has moved, in order)."""

    method: PaymentMethod
    net_deposited: list[tuple[str, int]]


def player_methods(player: Player) -> list[MethodView]:
    """The player's payment methods, oldest first, each with its net deposits per currency."""
    nets = net_deposits(player_id=player.pk)
    return [
        MethodView(method, sorted(nets.get(method.pk, {}).items()))
        for method in PaymentMethod.objects.filter(player=player).order_by("created_at", "id")
    ]


def player_method(player: Player, method_id) -> PaymentMethod | None:
    """The player's method with this id, or None (also for another player's or tenant's)."""
    return PaymentMethod.objects.filter(player=player, pk=method_id).first()
