import factory

from players.models import KycStatus, Player
from tenants.tests.factories import TenantFactory, UserFactory


class PlayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Player

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory, username=factory.Sequence(lambda n: f"player{n}"))
    display_name = factory.Faker("name")
    # Most players of a licensed casino have a verified identity; tests of KYC refusals say otherwise.
    kyc_status = KycStatus.VERIFIED
