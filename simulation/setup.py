"""The simulated world in the run's database, written through the ORM like seed_demo does.

Three tenants with different currencies (JPY has no minor unit, KWD has three),
policies with daily limits, a four-eyes amount, a retry limit and a short cooldown, an
auto-approval amount and a KYC threshold (one tenant forbids reverse withdrawals, one lets
raised player limits apply at once);
each tenant's account at the sandbox PSP service (webhooks to the run's web server);
two finance operators and an admin per tenant; players. Everyone gets an API token (operators
an expiring operator token, as the console makes them).
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from core.actors import Actor
from games.providers import create_game, create_provider_account
from payouts.models import ProviderAccount
from payouts.sandbox import engine as sandbox
from players.models import Player
from tenants.models import CurrencyLimit, OperatorMembership, PaymentPolicy, Tenant
from tenants.operator_tokens import create_operator_token

from . import spec
from .client import World

ROLES = {"finance1": OperatorMembership.Role.FINANCE, "finance2": OperatorMembership.Role.FINANCE}


def _user(username: str) -> tuple[object, str]:
    """A user and their player API token (DRF's)."""
    user = get_user_model().objects.create(username=username, password="!", is_staff=False)  # noqa: S106
    return user, Token.objects.create(user=user).key


def _operator_key(user) -> str:
    """An operator API token, made the way the console makes one (audited)."""
    _token, key = create_operator_token(user=user, name="simulation", actor=Actor.system("simulation"))
    return key


@transaction.atomic
def create_world(*, seed: int, web_url: str, psp_url: str) -> World:
    operator_tokens: list[list[str]] = []
    tenants, game_providers, psp_keys = [], [], []
    for spec_tenant in spec.TENANTS:
        tenant = Tenant.objects.create(
            slug=spec_tenant.slug,
            name=spec_tenant.name,
            allowed_currencies=[c.code for c in spec_tenant.currencies],
            time_zone=spec_tenant.time_zone,
        )
        tenants.append(tenant)
        policy = PaymentPolicy.objects.create(
            tenant=tenant,
            payout_retry_limit=spec.PAYOUT_RETRY_LIMIT,
            payout_cooldown_seconds=spec.PAYOUT_COOLDOWN_SECONDS,
            player_cancel_allowed=spec_tenant.player_cancel_allowed,
            limit_increase_cooldown_hours=spec_tenant.limit_increase_cooldown_hours,
        )
        for currency in spec_tenant.currencies:
            CurrencyLimit.objects.create(policy=policy, currency=currency.code, **spec.limits_for(currency))
        merchant_id, api_key, secret = (
            f"{spec_tenant.slug}-{seed}",
            f"sk_{spec_tenant.slug}_{seed}",
            sandbox.new_secret(),
        )
        psp_keys.append(api_key)
        ProviderAccount.objects.create(
            tenant=tenant,
            provider="sandbox",
            merchant_id=merchant_id,
            api_key=api_key,
            base_url=psp_url,
            webhook_secrets=[secret],
        )
        sandbox.register_merchant(
            merchant_id,
            api_key=api_key,
            signing_secret=secret,
            webhook_url=f"{web_url}/api/v1/webhooks/psp/sandbox/",
        )
        # The game provider the simulation plays (its server's calls are signed with this secret).
        actor = Actor.system("simulation")
        account, game_secret = create_provider_account(
            tenant, slug=f"{spec_tenant.slug}-games", name="Simulated game studio", actor=actor
        )
        game = create_game(
            account, code="slot", name="Simulated slot", launch_url="https://games.invalid/slot", actor=actor
        )
        game_providers.append((account.slug, game_secret, game.pk))
        tokens = []
        for name in spec.OPERATOR_NAMES:
            user = get_user_model().objects.create(username=f"{spec_tenant.slug}-{name}", password="!", is_staff=True)  # noqa: S106
            OperatorMembership.objects.create(
                user=user, tenant=tenant, role=ROLES.get(name, OperatorMembership.Role.ADMIN)
            )
            tokens.append(_operator_key(user))
        operator_tokens.append(tokens)
    player_tokens, player_ids = [], []
    for number in range(spec.PLAYERS):
        tenant = tenants[spec.tenant_of_player(number)]
        user, token = _user(f"{tenant.slug}-player{number:02d}")
        # Verified identities, as most players of a licensed casino have (the tenants require KYC for
        # payouts); a few start unverified and are verified by a finance operator during the run.
        status = "unverified" if number in spec.UNVERIFIED_PLAYERS else "verified"
        player = Player.objects.create(tenant=tenant, user=user, display_name=f"Player {number:02d}", kyc_status=status)
        player_tokens.append(token)
        player_ids.append(player.pk)
    return World(
        seed=seed,
        web_url=web_url,
        player_tokens=player_tokens,
        operator_tokens=operator_tokens,
        player_ids=player_ids,
        game_providers=game_providers,
        psp_url=psp_url,
        psp_keys=psp_keys,
    )
