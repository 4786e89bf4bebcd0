"""Reads for the console's chargebacks and receivables page (section 16), scoped to the operator's casino.

Chargebacks are the deposits the PSP reported disputed (charged back; charged back and then
reversed; or charged back again after the reversal), with when each step happened;
receivables are the wallets whose player owes the casino after a chargeback (the account is
restricted until it is repaid).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, Subquery

from core.ids import whole_number
from core.replica import read_alias
from tenants.operators import OperatorScope
from wallet.models import Deposit, DepositState, DepositTransition, Wallet

DISPUTED = (DepositState.CHARGED_BACK, DepositState.CHARGEBACK_REVERSED, DepositState.CHARGED_BACK_AGAIN)


@dataclass(frozen=True)
class DisputeFilter:
    states: tuple[str, ...] = ()  # empty: every disputed state
    currency: str = ""
    player: str = ""  # id, username or name
    disputed_after: datetime | None = None
    disputed_before: datetime | None = None


def _player_match(term: str) -> Q:
    """The player's username or name contains `term`, or `term` is the player's number."""
    match = Q(player__user__username__icontains=term) | Q(player__display_name__icontains=term)
    if whole_number(term) is not None:
        match |= Q(player_id=whole_number(term))
    return match


def _when(state: str):
    return Subquery(
        DepositTransition.objects.filter(deposit=OuterRef("pk"), to_state=state).order_by("id").values("created_at")[:1]
    )


def chargebacks(scope: OperatorScope, filters: DisputeFilter):
    """Disputed deposits, the latest dispute step first, each with `charged_back_at`, `reversed_at` and
    `charged_back_again_at`; the day filters find a deposit by any of its steps."""
    rows = (
        scope.filter(Deposit.objects.using(read_alias()))
        .filter(state__in=filters.states or DISPUTED)
        .select_related("player__user", "tenant", "payment_method")
        .annotate(
            charged_back_at=_when(DepositState.CHARGED_BACK),
            reversed_at=_when(DepositState.CHARGEBACK_REVERSED),
            charged_back_again_at=_when(DepositState.CHARGED_BACK_AGAIN),
            last_step_at=Subquery(
                DepositTransition.objects.filter(deposit=OuterRef("pk"), to_state__in=DISPUTED)
                .order_by("-id")
                .values("created_at")[:1]
            ),
        )
    )
    if filters.currency:
        rows = rows.filter(currency=filters.currency)
    if filters.player.strip():
        rows = rows.filter(_player_match(filters.player.strip()))
    if filters.disputed_after or filters.disputed_before:
        # A step of the dispute in those days: the settlement report of a day lists each step apart.
        steps = DepositTransition.objects.filter(deposit=OuterRef("pk"), to_state__in=DISPUTED)
        if filters.disputed_after:
            steps = steps.filter(created_at__gte=filters.disputed_after)
        if filters.disputed_before:
            steps = steps.filter(created_at__lt=filters.disputed_before)
        rows = rows.filter(Exists(steps))
    return rows.order_by("-last_step_at", "-id")


def receivables(scope: OperatorScope, filters: DisputeFilter):
    """Wallets whose player owes the casino (served by the partial index wallet_receivable_open), largest first."""
    rows = (
        scope.filter(Wallet.objects.using(read_alias()))
        .filter(balance_receivable__gt=0)
        .select_related("player__user", "tenant")
    )
    if filters.currency:
        rows = rows.filter(currency=filters.currency)
    if filters.player.strip():
        rows = rows.filter(_player_match(filters.player.strip()))
    return rows.order_by("-balance_receivable", "id")
