import factory

from players.models import Player
from tenants.tests.factories import TenantFactory, UserFactory


class PlayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Player

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory, username=factory.Sequence(lambda n: f"player{n}"))
    display_name = factory.Faker("name")
