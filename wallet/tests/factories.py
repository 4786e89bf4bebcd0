import factory

from tenants.tests.factories import TenantFactory, UserFactory
from wallet.models import Actor, Player, Wallet
from wallet.services import complete_deposit, create_deposit, mark_deposit_pending


class PlayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Player

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory, username=factory.Sequence(lambda n: f"player{n}"))
    display_name = factory.Faker("name")


def fund(player: Player, amount: int, currency: str = "EUR") -> Wallet:
    """Give a player money the only legitimate way: a completed deposit through the services."""
    psp = Actor.psp("sandbox")
    deposit = create_deposit(player=player, amount=amount, currency=currency, actor=Actor.player(player.user))
    mark_deposit_pending(deposit, actor=psp, provider_reference=f"test-{deposit.pk}")
    complete_deposit(deposit, actor=psp)
    return Wallet.objects.get(player=player, currency=currency)
