from core.actors import Actor
from players.models import Player
from wallet.methods import MethodDetails
from wallet.models import Deposit, PaymentMethod, Wallet
from wallet.services import complete_deposit, create_deposit, mark_deposit_pending


def fund(player: Player, amount: int, currency: str = "EUR", *, method: MethodDetails | None = None) -> Wallet:
    """Give a player money the only legitimate way: a completed deposit through the services
    (paid with `method`, as the PSP would report it, if given)."""
    deposit_with(player, amount, currency, method=method)
    return Wallet.objects.get(player=player, currency=currency)


def deposit_with(player: Player, amount: int, currency: str = "EUR", *, method: MethodDetails | None = None) -> Deposit:
    """A completed deposit of `amount`, paid with `method` if given."""
    psp = Actor.psp("sandbox")
    deposit = create_deposit(player=player, amount=amount, currency=currency, actor=Actor.player(player.user))
    mark_deposit_pending(deposit, actor=psp, provider_reference=f"test-{deposit.pk}")
    complete_deposit(deposit, actor=psp, method=method)
    return Deposit.objects.get(pk=deposit.pk)


LABELS = {"card": "Visa", "bank_account": "Bank account", "ewallet": "E-wallet"}


def card(fingerprint: str = "4242424242424242", *, payout_capable: bool = True, kind: str = "card") -> MethodDetails:
    """A payment method as the PSP describes it; the same fingerprint is the same instrument."""
    return MethodDetails(
        kind=kind,
        token=f"tok_{kind}_{fingerprint}",
        label=f"{LABELS[kind]} •••• {fingerprint[-4:]}",
        fingerprint=fingerprint,
        payout_capable=payout_capable,
    )


def bank_account(iban: str = "DE89370400440532013000", *, payout_capable: bool = True) -> MethodDetails:
    return card(iban, payout_capable=payout_capable, kind="bank_account")


def funded_method(player: Player, amount: int, details: MethodDetails | None = None, currency: str = "EUR"):
    """The player's payment method after a completed deposit of `amount` with it."""
    return PaymentMethod.objects.get(
        pk=deposit_with(player, amount, currency, method=details or card()).payment_method_id
    )
