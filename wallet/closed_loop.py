"""Closed loop: a withdrawal goes back to the methods that deposited (ARCHITECTURE section 16).

For one wallet (player and currency), with `owed(m)` = max(net deposits of m, 0) for each
payout-capable method m (wallet.methods) and `available` the wallet's available balance:

    winnings   = max(available - sum of owed(m) over payout-capable methods, 0)
    allowed(m) = min(available, owed(m) + winnings)       for a payout-capable method
    allowed(m) = 0                                        for one that cannot receive payouts

So each method may receive up to what it brought in, and money beyond every method's net
deposits (winnings, and deposits made with a method that cannot receive payouts) may go to
any payout-capable method; once every method's deposits are returned, all of it may. With
the tenant's `closed_loop` off, any payout-capable method may receive everything available.

Computed in the withdrawal's transaction under the wallet's row lock: every act that lowers
a method's net deposits or the available balance (a withdrawal, a chargeback, play) takes
that lock too, so two concurrent withdrawals cannot both use the same allowance.
"""

from dataclasses import dataclass

from core.money import format_amount
from wallet.errors import ClosedLoopViolation
from wallet.methods import net_deposits
from wallet.models import PaymentMethod, Wallet

OVER_NET_DEPOSITS = "over_net_deposits"
NOT_PAYOUT_CAPABLE = "not_payout_capable"


@dataclass(frozen=True)
class Allowance:
    """What one method may receive from one wallet now, and the figures behind it."""

    method: PaymentMethod
    net_deposited: int
    allowed: int


def allowances(wallet: Wallet, *, closed_loop: bool = True) -> list[Allowance]:
    """Every method of the wallet's player with what it may receive from this wallet now."""
    methods = list(PaymentMethod.objects.filter(player_id=wallet.player_id).order_by("created_at", "id"))
    nets = net_deposits(player_id=wallet.player_id, wallet_id=wallet.pk) if methods else {}
    net = {method.pk: nets.get(method.pk, {}).get(wallet.currency, 0) for method in methods}
    available = wallet.balance_available
    owed = {method.pk: max(net[method.pk], 0) for method in methods if method.payout_capable}
    winnings = max(available - sum(owed.values()), 0)
    result = []
    for method in methods:
        if not method.payout_capable:
            allowed = 0
        elif not closed_loop:
            allowed = available
        else:
            allowed = min(available, owed[method.pk] + winnings)
        result.append(Allowance(method, net[method.pk], allowed))
    return result


def check_destination(wallet: Wallet, method: PaymentMethod, amount: int, *, closed_loop: bool) -> list[Allowance]:
    """Refuse `amount` to `method` (CLOSED_LOOP_VIOLATION) unless the rule allows it; returns the figures.

    The caller holds the wallet's row lock and has checked that the funds are available.
    """
    figures = allowances(wallet, closed_loop=closed_loop)
    mine = next(figure for figure in figures if figure.method.pk == method.pk)
    if method.payout_capable and amount <= mine.allowed:
        return figures
    currency = wallet.currency
    allowed = [
        {"payment_method": str(figure.method.pk), "amount": format_amount(figure.allowed, currency)}
        for figure in figures
        if figure.allowed > 0
    ]
    if not method.payout_capable:
        reason, detail = NOT_PAYOUT_CAPABLE, f"{method.label} cannot receive payouts."
    else:
        reason = OVER_NET_DEPOSITS
        detail = (
            f"{method.label} may receive at most {format_amount(mine.allowed, currency)} {currency} now: money goes "
            "back to the methods it came from, up to what each deposited; only winnings beyond that go anywhere."
        )
    raise ClosedLoopViolation(
        detail,
        reason=reason,
        payment_method=str(method.pk),
        requested=format_amount(amount, currency),
        currency=currency,
        allowed=allowed,
    )
