import factory
from django.contrib.auth import get_user_model

from tenants.models import CurrencyLimit, OperatorMembership, PaymentPolicy, Tenant


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"brand-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    allowed_currencies = factory.LazyFunction(lambda: ["EUR", "USD"])
    time_zone = "Europe/Malta"
    policy = factory.RelatedFactory("tenants.tests.factories.PaymentPolicyFactory", factory_related_name="tenant")


class PaymentPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentPolicy
        django_get_or_create = ("tenant",)

    tenant = factory.SubFactory(TenantFactory, policy=None)
    payout_retry_limit = 3
    payout_cooldown_seconds = 0


class CurrencyLimitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CurrencyLimit
        django_get_or_create = ("policy", "currency")

    policy = factory.SubFactory(PaymentPolicyFactory)
    currency = "EUR"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")


class OperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OperatorMembership

    user = factory.SubFactory(UserFactory, username=factory.Sequence(lambda n: f"operator{n}"))
    tenant = factory.SubFactory(TenantFactory)
    role = OperatorMembership.Role.FINANCE
