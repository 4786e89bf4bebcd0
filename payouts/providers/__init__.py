"""Finding the PSP adapter of a tenant. Nothing else in the product names a concrete PSP."""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import (
    InvalidWebhook,
    MalformedWebhook,
    PaymentProvider,
    PaymentSession,
    PayoutStatus,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    WebhookMessage,
)

__all__ = [
    "InvalidWebhook",
    "MalformedWebhook",
    "PaymentProvider",
    "PaymentSession",
    "PayoutStatus",
    "ProviderError",
    "ProviderRejected",
    "ProviderTimeout",
    "ProviderUnavailable",
    "WebhookMessage",
    "accounts_for",
    "provider_for",
]


def provider_class(name: str):
    try:
        return import_string(settings.PAYMENT_PROVIDERS[name])
    except KeyError:
        raise LookupError(f"No payment provider named {name!r} is configured") from None


def provider_for(tenant_or_account) -> PaymentProvider:
    """The configured adapter for a tenant (or directly for one of its provider accounts)."""
    from payouts.models import ProviderAccount

    account = (
        tenant_or_account
        if isinstance(tenant_or_account, ProviderAccount)
        else ProviderAccount.objects.get(tenant=tenant_or_account)
    )
    return provider_class(account.provider)(account)


def accounts_for(provider_name: str):
    """Every account at one PSP: webhooks name the PSP, their signature names the account."""
    from payouts.models import ProviderAccount

    provider_class(provider_name)  # unknown names fail here
    return list(ProviderAccount.objects.filter(provider=provider_name).select_related("tenant"))
