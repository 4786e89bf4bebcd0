from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.api_keys import digest_of, new_key
from tenants.models import CurrencyLimit, OperatorMembership, OperatorToken, PaymentPolicy, Tenant
from tenants.operator_tokens import OPERATOR_TOKEN_PREFIX


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


def operator_api_key(user, *, expires_in: timedelta = timedelta(days=30), name: str = "tests") -> str:
    """A fresh operator API token of `user` (written directly: no audit event); returns its key."""
    key = new_key(OPERATOR_TOKEN_PREFIX)
    OperatorToken.objects.create(
        user=user, name=name, digest=digest_of(key), prefix=key[:10], expires_at=timezone.now() + expires_in
    )
    return key
