"""Reads of tenant configuration."""

from tenants.models import PaymentPolicy, Tenant


def payment_policy(tenant: Tenant) -> PaymentPolicy:
    """The tenant's policy, or the defaults if none was saved yet."""
    policy = PaymentPolicy.objects.filter(tenant_id=tenant.pk).first()
    return policy or PaymentPolicy(tenant=tenant)
