from core.actors import Actor
from players.models import Player
from wallet.models import Wallet
from wallet.services import complete_deposit, create_deposit, mark_deposit_pending


def fund(player: Player, amount: int, currency: str = "EUR") -> Wallet:
    """Give a player money the only legitimate way: a completed deposit through the services."""
    psp = Actor.psp("sandbox")
    deposit = create_deposit(player=player, amount=amount, currency=currency, actor=Actor.player(player.user))
    mark_deposit_pending(deposit, actor=psp, provider_reference=f"test-{deposit.pk}")
    complete_deposit(deposit, actor=psp)
    return Wallet.objects.get(player=player, currency=currency)
