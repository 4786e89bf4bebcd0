"""What an operator should know about a player beside a decision: who they are, what they moved,
and what protects them (KYC, limits, exclusions: backoffice.player_protection).

Lifetime figures count money that really moved: completed deposits in, paid withdrawals
out; withdrawals still open (requested to payout_failed) are shown apart. Earlier
withdrawals carry their risk flags. Play: the latest rounds, and per currency the applied
bets, wins and rolled-back bets since the last completed deposit (money in and out with
little play is what `fast_cashout` flags).
"""

from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from backoffice.player_protection import Protection, player_protection
from core.ids import whole_number
from core.replica import read_alias
from games.reports import Play, play_since, recent_rounds
from players.models import Player
from tenants.selectors import payment_policy
from wallet.closed_loop import allowances
from wallet.methods import player_methods
from wallet.models import Deposit, DepositState, PaymentMethod, Wallet, Withdrawal, WithdrawalState
from wallet.protection import open_receivables

OPEN_WITHDRAWAL_STATES = (
    WithdrawalState.REQUESTED,
    WithdrawalState.APPROVED,
    WithdrawalState.PAYOUT_PENDING,
    WithdrawalState.PAYOUT_FAILED,
)


@dataclass
class CurrencyTotals:
    currency: str
    deposited: int = 0
    withdrawn: int = 0
    withdrawing: int = 0
    deposits: int = 0
    withdrawals: int = 0

    @property
    def net(self) -> int:
        """What the casino took from the player in this currency (negative: the player is ahead)."""
        return self.deposited - self.withdrawn


@dataclass
class MethodContext:
    """A payment method as finance reads it: its net deposits, and how many other players of the
    casino have an instrument with the same fingerprint (shared_payment_method)."""

    method: PaymentMethod
    net_deposited: list[tuple[str, int]]
    shared_with: int = 0


@dataclass
class PlayerContext:
    player: Player
    account_age_days: int
    wallets: list
    totals: list[CurrencyTotals]
    protection: Protection
    previous_withdrawals: list = field(default_factory=list)
    recent: list = field(default_factory=list)
    methods: list[MethodContext] = field(default_factory=list)
    receivables: list[tuple[str, int]] = field(default_factory=list)  # owed after chargebacks: restricted
    rounds: list = field(default_factory=list)
    play_since_deposit: list[Play] = field(default_factory=list)

    @property
    def restricted(self) -> bool:
        return bool(self.receivables)


def player_context(
    player: Player, *, exclude=None, recent: int = 10, previous: int = 10, rounds: int = 20
) -> PlayerContext:
    """Lifetime totals per currency, balances, earlier withdrawals, the latest transactions and play."""
    totals: dict[str, CurrencyTotals] = {}
    deposits = (
        Deposit.objects.filter(player=player, state__in=(DepositState.COMPLETED, DepositState.CHARGEBACK_REVERSED))
        .values("currency")
        .annotate(total=Sum("amount"), n=Count("id"))
    )
    for row in deposits:
        entry = totals.setdefault(row["currency"], CurrencyTotals(row["currency"]))
        entry.deposited, entry.deposits = row["total"], row["n"]
    withdrawals = (
        Withdrawal.objects.filter(player=player)
        .values("currency")
        .annotate(
            paid=Sum("amount", filter=Q(state=WithdrawalState.PAID)),
            open=Sum("amount", filter=Q(state__in=OPEN_WITHDRAWAL_STATES)),
            n=Count("id", filter=Q(state=WithdrawalState.PAID)),
        )
    )
    for row in withdrawals:
        entry = totals.setdefault(row["currency"], CurrencyTotals(row["currency"]))
        entry.withdrawn, entry.withdrawing, entry.withdrawals = row["paid"] or 0, row["open"] or 0, row["n"]
    others = Withdrawal.objects.filter(player=player).order_by("-created_at", "-id")
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    history = [*Deposit.objects.filter(player=player).order_by("-created_at", "-id")[:recent]]
    history += [*Withdrawal.objects.filter(player=player).order_by("-created_at", "-id")[:recent]]
    history.sort(key=lambda tx: (tx.created_at, tx.pk), reverse=True)
    return PlayerContext(
        player=player,
        account_age_days=(timezone.now() - player.created_at).days,
        wallets=list(Wallet.objects.filter(player=player).order_by("currency")),
        totals=[totals[currency] for currency in sorted(totals)],
        protection=player_protection(player),
        previous_withdrawals=list(others[:previous]),
        recent=history[:recent],
        methods=payment_methods(player),
        receivables=open_receivables(player.pk),
        rounds=recent_rounds(player, limit=rounds),
        play_since_deposit=_play_since_deposit(player),
    )


def _play_since_deposit(player: Player) -> list[Play]:
    """Per currency with a completed deposit: applied play since the latest one completed."""
    last = (
        Deposit.objects.filter(
            player=player,
            state__in=(DepositState.COMPLETED, DepositState.CHARGEBACK_REVERSED),
            completed_at__isnull=False,
        )
        .values("currency")
        .annotate(at=Max("completed_at"))
        .order_by("currency")
    )
    return [play_since(player, row["currency"], row["at"]) for row in last]


def payment_methods(player: Player) -> list[MethodContext]:
    """The player's methods with their net deposits and how many other players share each fingerprint."""
    views = player_methods(player)
    fingerprints = {view.method.fingerprint for view in views if view.method.fingerprint}
    shared = dict(
        PaymentMethod.objects.filter(tenant_id=player.tenant_id, fingerprint__in=fingerprints)
        .exclude(player=player)
        .values("fingerprint")
        .annotate(players=Count("player", distinct=True))
        .values_list("fingerprint", "players")
    )
    return [MethodContext(view.method, view.net_deposited, shared.get(view.method.fingerprint, 0)) for view in views]


def players_matching(scope, query: str):
    """Players of the operator's tenant whose username, name, external reference or id matches, newest first."""
    rows = scope.filter(Player.objects.using(read_alias()).select_related("user", "tenant"))
    rows = rows.order_by("-created_at", "-id")
    query = query.strip()
    if query:
        match = Q(user__username__icontains=query) | Q(display_name__icontains=query) | Q(external_ref__iexact=query)
        if whole_number(query) is not None:
            match |= Q(pk=whole_number(query))
        rows = rows.filter(match)
    return rows


def find_players(scope, query: str, *, limit: int = 50):
    return players_matching(scope, query)[:limit]


def find_player(scope, player_id) -> Player | None:
    """One player of the operator's tenant, or None (unknown ids and other tenants' players alike)."""
    pk = whole_number(str(player_id))
    if pk is None:
        return None
    return scope.filter(Player.objects.select_related("user", "tenant")).filter(pk=pk).first()


@dataclass
class Destination:
    """Where a withdrawal goes, and the closed-loop figures of its wallet now (wallet.closed_loop)."""

    method: PaymentMethod | None
    closed_loop: bool
    currency: str
    allowances: list = field(default_factory=list)


def destination(withdrawal: Withdrawal) -> Destination:
    """The withdrawal's destination and what each of the player's methods may receive from its wallet now
    (this withdrawal, while in flight, already counts against its destination's net deposits)."""
    closed_loop = payment_policy(withdrawal.tenant).closed_loop
    wallet = Wallet.objects.get(pk=withdrawal.wallet_id)
    return Destination(
        method=withdrawal.payment_method,
        closed_loop=closed_loop,
        currency=withdrawal.currency,
        allowances=allowances(wallet, closed_loop=closed_loop),
    )
