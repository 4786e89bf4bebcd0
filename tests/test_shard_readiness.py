"""Sharding by tenant: what the schema already satisfies, and the named exceptions (docs/scaling.md).

A new table must either carry its tenant (a `tenant_id` column, or a required parent that
has one) or be named here as a platform table, with the reason; a new unique constraint must
stay inside one tenant or be named here too. docs/scaling.md says the same, and is checked
against these lists.
"""

from pathlib import Path

import pytest
from django.db import connection

from players.tests.factories import PlayerFactory
from tenants.tests.factories import TenantFactory
from wallet.models import Wallet
from wallet.services import approve_withdrawal
from wallet.tests.builders import REASON, operator_of, withdraw
from wallet.tests.factories import fund

from .shard_audit import audit, cross_tenant_rows

SCALING = (Path(__file__).resolve().parent.parent / "docs" / "scaling.md").read_text(encoding="utf-8")

# Tables without a tenant, and why. On shards they live in one platform database (or are copied to each).
PLATFORM = {
    "tenants_tenant": "the tenant directory itself: where a shard map would live",
    "auth_user": "players, operators and platform staff sign in before their tenant is known",
    "auth_group": "Django's permissions",
    "auth_permission": "Django's permissions",
    "django_content_type": "Django's model registry",
    "django_session": "looked up by cookie before the tenant is known",
    "django_admin_log": "the platform admin's log",
    "authtoken_token": "players' API tokens, looked up by key before the tenant is known",
    "tenants_operatortoken": "operators' API tokens, looked up by digest before the tenant is known",
    "players_playersessiontoken": "the player page's tokens, joined with django_session",
    "otp_totp_totpdevice": "operators' second factor, per user",
    "axes_accessattempt": "sign-in lockouts, per username and address",
    "axes_accessattemptexpiration": "sign-in lockouts",
    "axes_accessfailurelog": "sign-in lockouts",
    "axes_accesslog": "sign-in lockouts",
    "wallet_formtoken": "one-time form tokens, per user",
    "core_refusaltally": "refused requests per source address, before any tenant is known",
    "players_registerlisting": "the national self-exclusion register's list (sandbox): one for everyone",
    "reconciliation_checkpoint": "where the all-tenants reconciliation run left the ledger: one per shard",
    "sandbox_psp_sandboxmerchant": "the sandbox PSP: another company's system in production",
    "sandbox_psp_sandboxpayment": "the sandbox PSP",
    "sandbox_psp_sandboxpayout": "the sandbox PSP",
    "sandbox_psp_sandboxdelivery": "the sandbox PSP",
    "sandbox_psp_sandboxinstrument": "the sandbox PSP",
}

# Unique constraints that do not name the tenant or a row of one tenant, and why.
GLOBAL_UNIQUES = {
    ("wallet_player", ("user_id",)): "a user is one tenant's player: follows the platform user",
    ("tenants_operatormembership", ("user_id",)): "a user works for one tenant: follows the platform user",
    ("wallet_deposit", ("reference",)): "random references (DP-…): unique per shard, collisions improbable",
    ("wallet_withdrawal", ("reference",)): "random references (WD-…): unique per shard, collisions improbable",
    ("wallet_deposit", ("provider", "provider_reference")): "the PSP's own id: global at the PSP",
    ("payouts_provideraccount", ("provider", "merchant_id")): "a merchant account at a PSP belongs to one tenant",
    ("reconciliation_reconciliationrun", ("key",)): "the nightly run's key covers every tenant: one per shard",
    ("reconciliation_finding", ("run_id", "key")): "findings of an all-tenants run",
    ("games_gameprovideraccount", ("slug",)): "the slug is the game API's URL: global, like a webhook URL",
    ("games_gamesession", ("token_digest",)): "random session tokens, looked up before the tenant is known",
    ("wallet_journalentry", ("game_transaction_id", "event_type")): "a game transaction's own id: per shard",
}


def test_every_table_carries_its_tenant_or_is_a_named_platform_table():
    tables = audit()
    assert {t.name for t in tables if t.is_platform} == set(PLATFORM)
    money = {"wallet_wallet", "wallet_journalentry", "wallet_posting", "wallet_deposit", "wallet_withdrawal"}
    assert all(t.tenant == "tenant_id" for t in tables if t.name in money)


def test_unique_constraints_stay_inside_one_tenant_except_the_named_ones():
    assert {(t.name, u) for t in audit() for u in t.global_uniques} == set(GLOBAL_UNIQUES)


def test_the_only_references_across_the_shard_line_are_to_users():
    assert {target for t in audit() for _, target in t.platform_references} == {"auth_user"}


def test_docs_name_every_platform_table_and_global_unique_constraint():
    for table in PLATFORM:
        assert f"`{table}`" in SCALING, table
    for table, columns in GLOBAL_UNIQUES:
        assert f"`{table}`" in SCALING and f"({', '.join(columns)})" in SCALING, (table, columns)


@pytest.mark.django_db
def test_no_row_points_at_another_tenants_row_and_the_audit_would_say_so():
    # given two casinos whose money moved through the services
    casinos = [TenantFactory(allowed_currencies=["EUR"]) for _ in range(2)]
    for tenant in casinos:
        player = PlayerFactory(tenant=tenant)
        fund(player, 100_00)
        approve_withdrawal(withdraw(player, 30_00), actor=operator_of(tenant), reason=REASON)
    # then no foreign key between two tenant tables points across tenants
    counts = cross_tenant_rows()
    assert counts and set(counts.values()) == {0}, counts

    # when a wallet is moved to the other casino behind the services' back
    wallet = Wallet.objects.filter(tenant=casinos[0]).first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE wallet_wallet SET tenant_id = %s WHERE id = %s", [casinos[1].pk, wallet.pk])
    # then the audit finds the rows that now point across
    crossing = {key: n for key, n in cross_tenant_rows().items() if n}
    assert crossing[("wallet_posting", "wallet_id")] >= 1
    assert crossing[("wallet_withdrawal", "wallet_id")] == 1
