"""Demo data: two tenants with operators of every role and players with some history.

Every demo player's identity is verified (KYC) but one per tenant, who stays unverified:
they can deposit (below the KYC amount) but not withdraw where the casino requires KYC.

Safe to run again: existing users, tenants and histories are kept, and so are the URLs
each casino's PSP account has (unless --base-url or --psp-url give new ones); passwords
and tokens are the same every time, so scripts can rely on them (operators' API tokens
are derived from the machine's secret key, since only their digest is stored).
"""

import base64
import hmac
import json
import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from backoffice.management import demo_games
from core.actors import Actor
from core.api_keys import digest_of
from core.money import format_amount
from games.models import Game, GameProviderAccount
from games.providers import create_game, create_provider_account, set_report_url
from payouts.models import ProviderAccount
from payouts.sandbox import engine as sandbox
from payouts.sandbox.models import SandboxMerchant
from players.kyc import set_kyc_status
from players.models import KycCheck, KycStatus, Player
from tenants.models import CurrencyLimit, OperatorMembership, OperatorToken, PaymentPolicy, Tenant
from tenants.operator_tokens import OPERATOR_TOKEN_PREFIX, create_operator_token, revoke_operator_token
from wallet import services
from wallet.methods import MethodDetails
from wallet.models import Deposit, DepositState, PaymentMethod, Wallet

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-pass-2026")
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
WEBHOOK_PATH = "/api/v1/webhooks/psp/sandbox/"

TENANTS = [
    {
        "slug": "aurora",
        "name": "Aurora Casino",
        "currencies": ["EUR", "USD"],
        "time_zone": "Europe/Malta",
        "limits": {
            "EUR": {
                "daily_deposit_limit": 500_000,
                "daily_withdraw_limit": 200_000,
                "min_amount": 1_000,
                "max_amount": 500_000,
                "four_eyes_amount": 100_000,  # 1000 EUR and more: two approvers
            },
            "USD": {
                "daily_deposit_limit": 500_000,
                "daily_withdraw_limit": 200_000,
                "min_amount": 1_000,
                "max_amount": 500_000,
            },
        },
        "players": ["alice", "bob", "carol"],
        "unverified": "carol",
        # Both of bob's card deposits are charged back after he spent and withdrew part of them: he
        # owes the casino (the Chargebacks page, his restricted account, a withdrawal only to reject).
        "disputed": "bob",
    },
    {
        "slug": "borealis",
        "name": "Borealis Bet",
        "currencies": ["TRY", "EUR"],
        "time_zone": "Europe/Istanbul",
        "limits": {
            "TRY": {
                "daily_deposit_limit": 10_000_000,
                "daily_withdraw_limit": 5_000_000,
                "min_amount": 10_000,
                "four_eyes_amount": 2_000_000,
            },
            "EUR": {"daily_deposit_limit": 300_000, "daily_withdraw_limit": 100_000, "min_amount": 1_000},
        },
        "players": ["deniz", "emre"],
        "unverified": "emre",
    },
]

OPERATOR_ROLES = [
    ("viewer", OperatorMembership.Role.VIEWER),
    ("finance", OperatorMembership.Role.FINANCE),
    ("finance2", OperatorMembership.Role.FINANCE),
    ("admin", OperatorMembership.Role.ADMIN),
    ("admin2", OperatorMembership.Role.ADMIN),  # a second admin approves policy changes that loosen a control
]


class Command(BaseCommand):
    help = "Create (or keep) the demo tenants, operators and players; --json prints their credentials."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print tenants and credentials as JSON.")
        parser.add_argument(
            "--base-url",
            default=os.environ.get("BASE_URL"),
            help=f"Where the web app answers (the PSP's webhooks go there). Unset: the URL each demo casino "
            f"already has is kept ({DEFAULT_BASE_URL} for a new one).",
        )
        parser.add_argument(
            "--psp-url",
            default=os.environ.get("SANDBOX_PSP_URL"),
            help="Where the sandbox PSP answers (checkout pages, payouts). Unset: the URL each demo casino "
            "already has is kept (SANDBOX_PSP_URL's default for a new one).",
        )
        parser.add_argument(
            "--game-url",
            default=os.environ.get("SANDBOX_GAME_URL"),
            help=f"Where the sandbox game answers (the demo games' launch URLs point there; "
            f"default SANDBOX_GAME_URL or {demo_games.DEFAULT_GAME_URL}).",
        )

    def handle(
        self,
        *args,
        json: bool = False,
        base_url: str | None = None,
        psp_url: str | None = None,
        game_url: str | None = None,
        **options,
    ):
        summary = {"base_url": base_url, "admin_url": "", "tenants": []}
        summary["superuser"] = self._user("platform-admin", superuser=True)
        summary["sandbox_psp_url"] = psp_url
        for spec in TENANTS:
            with transaction.atomic():
                tenant = self._tenant(spec)
                psp = self._psp_account(tenant, base_url, psp_url)
                games = self._sandbox_game(tenant, base_url, game_url)
                operators = [
                    self._operator(tenant, f"{spec['slug']}-{suffix}", role) for suffix, role in OPERATOR_ROLES
                ]
                players = [self._player(tenant, f"{spec['slug']}-{name}") for name in spec["players"]]
                checker = Actor.operator(get_user_model().objects.get(username=f"{spec['slug']}-finance"))
                for name, player in zip(spec["players"], players, strict=True):
                    if name != spec["unverified"]:
                        self._verify(player["object"], checker)
            for name, player in zip(spec["players"], players, strict=True):
                self._history(
                    player["object"],
                    spec["currencies"][0],
                    withdrawals=name != spec["unverified"],
                    disputed=name == spec.get("disputed"),
                )
            summary["tenants"].append(
                {
                    "slug": tenant.slug,
                    "name": tenant.name,
                    "currencies": tenant.allowed_currencies,
                    "operators": operators,
                    "psp": psp,
                    "players": [self._describe_player(p) for p in players],
                    **games,
                }
            )
        # Without the options, what the first casino is configured with (the demo keeps them alike).
        first = summary["tenants"][0]["psp"]
        summary["base_url"] = base_url or first["webhook_url"].removesuffix(WEBHOOK_PATH)
        summary["admin_url"] = f"{summary['base_url']}/admin/"
        summary["sandbox_psp_url"] = psp_url or first["sandbox_url"]
        if json:
            self.stdout.write(_json_dumps(summary))
        else:
            self._print_logins(summary)

    def _tenant(self, spec) -> Tenant:
        tenant, _ = Tenant.objects.get_or_create(
            slug=spec["slug"],
            defaults={"name": spec["name"], "allowed_currencies": spec["currencies"], "time_zone": spec["time_zone"]},
        )
        policy, _ = PaymentPolicy.objects.get_or_create(
            tenant=tenant, defaults={"payout_retry_limit": 3, "payout_cooldown_seconds": 30}
        )
        for currency, amounts in spec["limits"].items():
            CurrencyLimit.objects.get_or_create(policy=policy, currency=currency, defaults=amounts)
        return tenant

    def _psp_account(self, tenant: Tenant, base_url: str | None, psp_url: str | None) -> dict:
        """The tenant's account at the sandbox PSP service, and the PSP's side of it.

        A URL not given is kept as stored (an operator or `make run` on other ports may have
        set it); only a new account gets the defaults.
        """
        merchant_id = f"demo-{tenant.slug}"
        account = ProviderAccount.objects.filter(tenant=tenant).first()
        merchant = SandboxMerchant.objects.filter(merchant_id=merchant_id).first()
        secret = account.webhook_secrets[0] if account and account.webhook_secrets else sandbox.new_secret()
        if base_url:
            webhook_url = f"{base_url.rstrip('/')}{WEBHOOK_PATH}"
        else:
            webhook_url = merchant.webhook_url if merchant and merchant.webhook_url else DEFAULT_BASE_URL + WEBHOOK_PATH
        psp_url = psp_url or (account.base_url if account and account.base_url else settings.SANDBOX_PSP_URL)
        api_key = f"sk_demo_{tenant.slug}"
        ProviderAccount.objects.update_or_create(
            tenant=tenant,
            defaults={
                "provider": "sandbox",
                "merchant_id": merchant_id,
                "api_key": api_key,
                "base_url": psp_url,
                "webhook_secrets": [secret],
            },
        )
        sandbox.register_merchant(merchant_id, api_key=api_key, signing_secret=secret, webhook_url=webhook_url)
        return {
            "provider": "sandbox",
            "merchant_id": merchant_id,
            "sandbox_url": psp_url,
            "sandbox_api_key": api_key,
            "webhook_url": webhook_url,
            "webhook_signing_secret": secret,
        }

    def _sandbox_game(self, tenant: Tenant, base_url: str | None, game_url: str | None) -> dict:
        """The tenant's game provider account for the sandbox game and its one game (made once, kept on re-runs;
        the launch URL and the daily report's URL follow --game-url), registered at the sandbox game;
        seed_demo's entry for it."""
        actor = Actor.system("seed_demo")
        slug = demo_games.provider_slug(tenant.slug)
        game_url = demo_games.sandbox_game_url(game_url)
        launch_url = demo_games.launch_url_template(game_url, slug)
        account = GameProviderAccount.objects.filter(tenant=tenant, slug=slug).first()
        if account is None:
            account, secret = create_provider_account(tenant, slug=slug, name="Sandbox games", actor=actor)
        else:
            secret = account.secrets.filter(retired_at__isnull=True).order_by("-created_at").first().secret
        set_report_url(account, demo_games.report_url_template(game_url, slug), actor=actor)
        game = Game.objects.filter(account=account, code=demo_games.GAME_CODE).first()
        if game is None:
            game = create_game(
                account, code=demo_games.GAME_CODE, name=demo_games.GAME_NAME, launch_url=launch_url, actor=actor
            )
        elif game.launch_url != launch_url:
            game.launch_url = launch_url
            game.save(update_fields=["launch_url"])
        return demo_games.demo_sandbox_game(
            provider_slug=slug, signing_secret=secret, game_id=game.pk, base_url=base_url, game_url=game_url
        )

    def _user(self, username: str, *, superuser: bool = False, staff: bool = False) -> dict:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=username)
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
        user.is_staff = superuser or staff
        user.is_superuser = superuser
        user.save()
        account = {"username": username, "password": DEMO_PASSWORD, "object": user}
        if superuser:  # an operator of every casino
            account["token"] = _operator_token(user)
        return account

    def _operator(self, tenant: Tenant, username: str, role: str) -> dict:
        account = self._user(username, staff=True)
        user = account.pop("object")
        OperatorMembership.objects.update_or_create(user=user, defaults={"tenant": tenant, "role": role})
        return {**account, "token": _operator_token(user), "role": role}

    def _player(self, tenant: Tenant, username: str) -> dict:
        account = self._user(username)
        user = account.pop("object")
        player, _ = Player.objects.get_or_create(
            user=user, defaults={"tenant": tenant, "display_name": username.split("-", 1)[1].title()}
        )
        token, _ = Token.objects.get_or_create(user=user)  # the player's API token, for scripts
        return {**account, "token": token.key, "object": player}

    def _verify(self, player: Player, checker: Actor) -> None:
        """Verify the player's identity, as the casino's finance operator would, unless it was ever checked
        (an operator's later change in the demo is kept)."""
        if KycCheck.objects.filter(player=player).exists():
            return
        set_kyc_status(
            player,
            status=KycStatus.VERIFIED,
            actor=checker,
            reason="Identity document and proof of address checked (demo data)",
            document_ref=f"demo-docs/{player.user.username}",
        )
        player.refresh_from_db(fields=["kyc_status", "kyc_updated_at"])

    def _history(self, player: Player, currency: str, *, withdrawals: bool = True, disputed: bool = False) -> None:
        """A little history for a new player: two deposits (by card), a failed one and three withdrawals
        to the card (no withdrawals for the unverified player: the casino requires KYC for them); for a
        `disputed` player, both card deposits are then charged back, which leaves a receivable.

        The card is an instrument of the sandbox PSP (its database is the demo's), so the PSP can pay
        out to it when an operator approves the open withdrawal."""
        if Wallet.objects.filter(player=player).exists():
            return
        me, psp, ops = Actor.player(player.user), Actor.psp("sandbox"), Actor.system("seed_demo")
        scale = 10 if currency == "TRY" else 1  # lira amounts are larger
        account = ProviderAccount.objects.get(tenant_id=player.tenant_id)
        merchant = SandboxMerchant.objects.get(merchant_id=account.merchant_id)
        card = MethodDetails.from_psp(sandbox.instrument_data(sandbox.instrument_for(merchant, str(player.pk), "card")))
        for amount in (50_000 * scale, 25_000 * scale):
            deposit = services.create_deposit(
                player=player, amount=amount, currency=currency, actor=me, provider="sandbox"
            )
            services.mark_deposit_pending(deposit, actor=psp, provider_reference=f"seed-{deposit.reference}")
            services.complete_deposit(deposit, actor=psp, method=card)
        method = PaymentMethod.objects.get(player=player)
        failed = services.create_deposit(player=player, amount=10_000 * scale, currency=currency, actor=me)
        services.mark_deposit_pending(failed, actor=psp, provider_reference=f"seed-{failed.reference}")
        services.fail_deposit(failed, actor=psp, reason="Card declined by issuer")
        if not withdrawals:
            return

        def withdraw(amount: int):
            return services.request_withdrawal(
                player=player, amount=amount, currency=currency, actor=me, payment_method=method
            )

        paid = withdraw(5_000 * scale)
        services.approve_withdrawal(paid, actor=ops, reason="Demo history")
        services.mark_withdrawal_paid(paid, actor=ops, reason="Paid by bank transfer (demo history)")
        canceled = withdraw(2_000 * scale)
        services.cancel_withdrawal(canceled, actor=me, reason="Changed my mind")
        withdraw(12_000 * scale)
        if disputed:
            for deposit in Deposit.objects.filter(player=player, state=DepositState.COMPLETED).order_by("created_at"):
                services.charge_back_deposit(deposit, actor=psp, reason="Cardholder disputed the payment (demo data)")

    def _describe_player(self, player: dict) -> dict:
        obj = player.pop("object")
        balances = {
            w.currency: {
                "available": format_amount(w.balance_available, w.currency),
                "held": format_amount(w.balance_held, w.currency),
                "receivable": format_amount(w.balance_receivable, w.currency),  # owed after chargebacks
            }
            for w in Wallet.objects.filter(player=obj)
        }
        obj.refresh_from_db(fields=["kyc_status"])
        return {**player, "player_id": obj.pk, "kyc_status": obj.kyc_status, "balances": balances}

    def _print_logins(self, summary: dict) -> None:
        w = self.stdout.write
        w(self.style.SUCCESS(f"Demo data ready. Log in at {summary['admin_url']}"))
        root = summary["superuser"]
        w(f"  platform superuser: {root['username']} / {DEMO_PASSWORD}  token {root['token']}")
        for tenant in summary["tenants"]:
            w(f"  {tenant['name']} ({tenant['slug']}):")
            w(f"    PSP webhooks  {tenant['psp']['webhook_url']}  secret {tenant['psp']['webhook_signing_secret']}")
            for line in demo_games.describe(tenant):
                w(line)
            for op in tenant["operators"]:
                w(f"    operator {op['username']:<20} {op['role']:<8} password {DEMO_PASSWORD}  token {op['token']}")
            for player in tenant["players"]:
                owed = [
                    f"{b['receivable']} {c}"
                    for c, b in player["balances"].items()
                    if b["receivable"] != format_amount(0, c)
                ]
                note = f"  (owes {', '.join(owed)} after chargebacks: restricted)" if owed else ""
                w(f"    player   {player['username']:<20} token {player['token']}{note}")


def _operator_token(user) -> str:
    """The demo operator's API token: the same key on every run on this machine, made again if it
    expired or was revoked (both audited, like the console's).

    The key is derived from the secret key and the username, since only a digest is stored;
    anyone who holds the secret key can forge sessions anyway. Operators' old DRF tokens,
    which no longer open the operator API, are removed.
    """
    mac = hmac.new(settings.SECRET_KEY.encode(), f"seed_demo operator token {user.username}".encode(), "sha256")
    key = OPERATOR_TOKEN_PREFIX + base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")
    actor = Actor.system("seed_demo")
    token = OperatorToken.objects.filter(user=user, digest=digest_of(key)).first()
    if token is not None and token.expires_at > timezone.now():
        return key
    if token is not None:
        revoke_operator_token(user=user, token_id=token.pk, actor=actor)
    create_operator_token(user=user, name="demo token (seed_demo)", actor=actor, key=key)
    Token.objects.filter(user=user).delete()
    return key


def _json_dumps(summary: dict) -> str:
    summary = {**summary, "superuser": {k: v for k, v in summary["superuser"].items() if k != "object"}}
    return json.dumps(summary, indent=2)
