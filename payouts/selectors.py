"""Reads of PSP configuration."""

from payouts.models import ProviderAccount


def has_provider(tenant) -> bool:
    return ProviderAccount.objects.filter(tenant_id=tenant.pk).exists()


def provider_name(tenant) -> str:
    return ProviderAccount.objects.filter(tenant_id=tenant.pk).values_list("provider", flat=True).first() or ""
