"""Reads of PSP configuration."""

import uuid
from functools import cache

from django.db import connection

from core import sql
from payouts.models import ProviderAccount
from tenants.models import Tenant
from wallet.models import Withdrawal


def has_provider(tenant) -> bool:
    return ProviderAccount.objects.filter(tenant_id=tenant.pk).exists()


def provider_name(tenant) -> str:
    return ProviderAccount.objects.filter(tenant_id=tenant.pk).values_list("provider", flat=True).first() or ""


@cache
def _dispatch_query() -> str:
    return (
        f"SELECT {sql.select_list(Withdrawal, 'w')}, {sql.select_list(Tenant, 't')}, "
        f"{sql.select_list(ProviderAccount, 'a')} "
        f"FROM {Withdrawal._meta.db_table} w JOIN {Tenant._meta.db_table} t ON t.id = w.tenant_id "
        f"LEFT JOIN {ProviderAccount._meta.db_table} a ON a.tenant_id = w.tenant_id "
        "WHERE w.id = %s"
    )


def withdrawal_to_pay_out(withdrawal_id) -> tuple[Withdrawal, ProviderAccount | None]:
    """A withdrawal with its tenant, and the tenant's PSP account (None: paid by hand), in one
    query: the dispatcher's first read, taken for every payout task."""
    with connection.cursor() as cursor:
        cursor.execute(_dispatch_query(), [uuid.UUID(str(withdrawal_id))])
        row = cursor.fetchone()
    if row is None:
        raise Withdrawal.DoesNotExist(f"No withdrawal {withdrawal_id}")
    withdrawal = sql.instance_from(Withdrawal, row)
    withdrawal.tenant = sql.instance_from(Tenant, row, sql.width(Withdrawal))
    return withdrawal, sql.instance_from(ProviderAccount, row, sql.width(Withdrawal) + sql.width(Tenant))
