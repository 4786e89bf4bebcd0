"""Game provider accounts: signing secrets and their rotation, deactivation, games, and the cache calls read.

Services (the console's game providers page, seed_demo, tests): `create_provider_account`,
`rotate_secret`, `retire_secret`, `deactivate_provider_account`, `create_game`,
`set_report_url`. Each is one
transaction that locks the account's row and writes its audit event; a secret is never
written to the audit trail, only its prefix.

Rotation: `rotate_secret` adds a new active secret and leaves the old ones active, so the
provider can switch at its own pace (every call verifies against each active secret);
`retire_secret` then ends the old one. The last active secret cannot be retired: rotate
first. A deactivated account's calls are refused like unsigned ones.

The cache: each process keeps an account's id, tenant and active secrets (`keys_for`) for
GAME_PROVIDER_CACHE_SECONDS (default 5), so a provider call spends no query on them. The
process that changes an account forgets it when the change commits; the others see the
change within that time (a retired secret or a deactivated account stops verifying there
at most that much later).
"""

import base64
import re
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.actors import Actor
from core.audit import record_event
from core.errors import NotFound, ValidationFailed
from core.unit_of_work import UnitOfWork
from games.models import Game, GameProviderAccount, GameProviderSecret
from tenants.models import Tenant

SECRET_PREFIX = "whsec_"  # noqa: S105 - what a Standard Webhooks secret starts with
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def is_slug(text: str) -> bool:
    """Whether `text` can name a provider account (lower-case letters, digits, inner hyphens; 1-64)."""
    return _SLUG.fullmatch(text) is not None


_CACHE_LIMIT = 1024  # entries; unknown slugs are cached too, so a flood of them stays bounded


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes (the HMAC key)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class ProviderKeys:
    """What a provider call needs of its account: who it is and the secrets it may sign with."""

    account_id: int
    tenant_id: int
    slug: str
    secrets: tuple[str, ...]


_cache: dict[str, tuple[float, ProviderKeys | None]] = {}


def keys_for(slug: str) -> ProviderKeys | None:
    """The active account `slug` with its active secrets, or None (unknown or deactivated); cached."""
    now = time.monotonic()
    hit = _cache.get(slug)
    if hit is not None and hit[0] > now:
        return hit[1]
    keys = _load(slug)
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[slug] = (now + settings.GAME_PROVIDER_CACHE_SECONDS, keys)
    return keys


def _load(slug: str) -> ProviderKeys | None:
    account = GameProviderAccount.objects.filter(slug=slug, is_active=True).values("id", "tenant_id").first()
    if account is None:
        return None
    active = GameProviderSecret.objects.filter(account_id=account["id"], retired_at__isnull=True)
    return ProviderKeys(
        account_id=account["id"],
        tenant_id=account["tenant_id"],
        slug=slug,
        secrets=tuple(active.order_by("-created_at", "-id").values_list("secret", flat=True)),
    )


def forget(slug: str | None = None) -> None:
    """Drop `slug` (None: every account) from this process's cache."""
    if slug is None:
        _cache.clear()
    else:
        _cache.pop(slug, None)


def _forget_on_commit(slug: str) -> None:
    """Now (this process's next call reads the account afresh) and again once the change is committed (a call
    read between the two may have cached the rows before the change)."""
    forget(slug)
    transaction.on_commit(lambda: forget(slug))


# --- services ---------------------------------------------------------------------------------


def create_provider_account(tenant: Tenant, *, slug: str, name: str, actor: Actor) -> tuple[GameProviderAccount, str]:
    """A new account with one active secret; returns the account and the secret (shown once)."""
    slug, name = (slug or "").strip().lower(), (name or "").strip()
    errors = {}
    if not _SLUG.fullmatch(slug):
        errors["slug"] = ["1 to 64 lower-case letters, digits and hyphens, not starting or ending with a hyphen."]
    if not name or len(name) > 120:
        errors["name"] = ["A name of 1 to 120 characters."]
    if errors:
        raise ValidationFailed("The game provider account is not valid.", errors=errors)
    try:
        with transaction.atomic():
            account = GameProviderAccount.objects.create(tenant=tenant, slug=slug, name=name)
            secret = _add_secret(account, actor)
            _audit(account, actor, "game_provider.created", {"slug": slug, "name": name, "secret": secret.prefix})
    except IntegrityError:
        raise ValidationFailed(
            "This slug is taken.", errors={"slug": ["Another game provider account has this slug."]}
        ) from None
    _forget_on_commit(slug)
    return account, secret.secret


def rotate_secret(account: GameProviderAccount, *, actor: Actor) -> tuple[GameProviderSecret, str]:
    """Add a new active secret; the others stay active until retired. Returns it and its secret (shown once)."""
    with transaction.atomic():
        account = _lock(account)
        secret = _add_secret(account, actor)
        _audit(account, actor, "game_provider.secret_rotated", {"slug": account.slug, "secret": secret.prefix})
        _forget_on_commit(account.slug)
    return secret, secret.secret


def retire_secret(account: GameProviderAccount, secret_id: int, *, actor: Actor) -> GameProviderSecret:
    """End one secret: calls signed with it are refused from now on. Not the last active one."""
    with transaction.atomic():
        account = _lock(account)
        secret = GameProviderSecret.objects.filter(account=account, pk=secret_id).first()
        if secret is None:
            raise NotFound("No such secret of this game provider account.")
        if secret.retired_at is not None:
            return secret  # retired already: nothing changes
        if not GameProviderSecret.objects.filter(account=account, retired_at__isnull=True).exclude(pk=secret.pk):
            raise ValidationFailed(
                "This is the account's only active secret; make a new one (rotate) before retiring it.",
                errors={"secret": ["Rotate first: the account would have no secret to sign with."]},
            )
        secret.retired_at, secret.retired_by_label = timezone.now(), actor.label[:150]
        secret.save(update_fields=["retired_at", "retired_by_label"])
        _audit(account, actor, "game_provider.secret_retired", {"slug": account.slug, "secret": secret.prefix})
        _forget_on_commit(account.slug)
    return secret


def deactivate_provider_account(account: GameProviderAccount, *, actor: Actor, reason: str = "") -> GameProviderAccount:
    """The account's calls are refused (401) and its games start no sessions; its rows stay."""
    with transaction.atomic():
        account = _lock(account)
        if not account.is_active:
            return account
        account.is_active = False
        account.save(update_fields=["is_active", "updated_at"])
        _audit(account, actor, "game_provider.deactivated", {"slug": account.slug}, reason=reason)
        _forget_on_commit(account.slug)
    return account


def create_game(account: GameProviderAccount, *, code: str, name: str, launch_url: str, actor: Actor) -> Game:
    """A game of the account that players can start; `launch_url` is a template (games.sessions)."""
    code, name, launch_url = (code or "").strip().lower(), (name or "").strip(), (launch_url or "").strip()
    errors = {}
    if not _SLUG.fullmatch(code):
        errors["code"] = ["1 to 64 lower-case letters, digits and hyphens."]
    if not name or len(name) > 120:
        errors["name"] = ["A name of 1 to 120 characters."]
    if not launch_url.startswith(("http://", "https://")) or len(launch_url) > 500:
        errors["launch_url"] = ["An http(s) URL template of at most 500 characters."]
    if errors:
        raise ValidationFailed("The game is not valid.", errors=errors)
    try:
        with transaction.atomic():
            game = Game.objects.create(
                account=account, tenant_id=account.tenant_id, code=code, name=name, launch_url=launch_url
            )
            _audit(account, actor, "game.created", {"slug": account.slug, "game": game.pk, "code": code})
    except IntegrityError:
        raise ValidationFailed("This code is taken.", errors={"code": ["The account has a game with it."]}) from None
    return game


def set_report_url(account: GameProviderAccount, report_url: str, *, actor: Actor) -> GameProviderAccount:
    """Where reconciliation reads the provider's daily report: an http(s) URL with `{date}`; blank for none."""
    report_url = (report_url or "").strip()
    if report_url and (
        not report_url.startswith(("http://", "https://")) or "{date}" not in report_url or len(report_url) > 500
    ):
        raise ValidationFailed(
            "The report URL is not valid.",
            errors={"report_url": ["An http(s) URL of at most 500 characters with {date} for the day, or blank."]},
        )
    with transaction.atomic():
        account = _lock(account)
        if account.report_url == report_url:
            return account
        before = account.report_url
        account.report_url = report_url
        account.save(update_fields=["report_url", "updated_at"])
        data = {"slug": account.slug, "before": before, "after": report_url}
        _audit(account, actor, "game_provider.report_url_set", data)
    return account


def _lock(account: GameProviderAccount) -> GameProviderAccount:
    return GameProviderAccount.objects.select_for_update().get(pk=account.pk)


def _add_secret(account: GameProviderAccount, actor: Actor) -> GameProviderSecret:
    value = new_secret()
    return GameProviderSecret.objects.create(
        account=account, secret=value, prefix=value[:12], created_by_label=actor.label[:150]
    )


def _audit(account: GameProviderAccount, actor: Actor, action: str, data: dict, *, reason: str = "") -> None:
    uow = UnitOfWork()
    record_event(
        tenant=account.tenant_id, actor=actor, action=action, target=account, reason=reason, data=data, uow=uow
    )
    uow.flush()
