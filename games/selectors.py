"""Reads of the game wallet, scoped to a tenant."""

from games.models import Game, GameProviderAccount


def games_of(tenant_id: int):
    return Game.objects.filter(tenant_id=tenant_id, is_active=True, account__is_active=True).select_related("account")


def provider_accounts(tenant_id: int | None):
    """A tenant's game provider accounts with their secrets (every tenant's for None: platform staff)."""
    accounts = GameProviderAccount.objects.prefetch_related("secrets", "games").select_related("tenant")
    return accounts if tenant_id is None else accounts.filter(tenant_id=tenant_id)
