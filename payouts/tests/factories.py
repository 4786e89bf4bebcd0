import factory

from payouts.models import ProviderAccount
from payouts.sandbox import engine
from payouts.sandbox.models import SandboxMerchant
from tenants.tests.factories import TenantFactory


class SandboxMerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SandboxMerchant
        django_get_or_create = ("merchant_id",)

    merchant_id = factory.Sequence(lambda n: f"merchant-{n}")
    api_key = factory.Sequence(lambda n: f"sk_test_{n}")
    signing_secret = factory.LazyFunction(engine.new_secret)
    webhook_url = "http://testserver/api/v1/webhooks/psp/sandbox/"


class ProviderAccountFactory(factory.django.DjangoModelFactory):
    """A tenant's account at the in-process sandbox PSP (no base_url), with its merchant."""

    class Meta:
        model = ProviderAccount
        django_get_or_create = ("tenant",)

    tenant = factory.SubFactory(TenantFactory)
    provider = "sandbox"
    merchant_id = factory.LazyAttribute(lambda o: f"m-{o.tenant.slug}")
    api_key = factory.LazyAttribute(lambda o: f"sk_test_{o.tenant.slug}")
    base_url = ""

    @factory.lazy_attribute
    def webhook_secrets(self):
        merchant = SandboxMerchantFactory(merchant_id=self.merchant_id, api_key=self.api_key)
        return [merchant.signing_secret]
