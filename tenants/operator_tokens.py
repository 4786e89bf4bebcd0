"""Operators' API tokens: made in the console, expiring, listed and revoked there; every change audited.

The console's token page (backoffice) calls these; the operator API authenticates the
keys (tenants.auth). An operator sees and revokes only their own tokens: another
operator's token id is "not found", like another tenant's object.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.actors import Actor
from core.api_keys import digest_of, new_key
from core.audit import record_event
from core.errors import NotFound, ValidationFailed
from core.unit_of_work import UnitOfWork
from tenants.models import OperatorToken
from tenants.operators import scope_of

OPERATOR_TOKEN_PREFIX = "op_"  # noqa: S105 - what a key starts with, not a secret
NAME_MAX_LENGTH = OperatorToken._meta.get_field("name").max_length


def is_operator_token(key: str) -> bool:
    return key.startswith(OPERATOR_TOKEN_PREFIX)


def operator_tokens(user):
    """The user's own tokens, newest first (expired ones too, until revoked)."""
    return OperatorToken.objects.filter(user=user)


def create_operator_token(*, user, name: str, actor: Actor, key: str | None = None) -> tuple[OperatorToken, str]:
    """A new token of `user` named `name`, valid for OPERATOR_TOKEN_DAYS; returns it and its key.

    The key is returned here only: the database keeps its digest. `key` is for demo data
    (seed_demo prints the same demo keys on every run); anything else gets a random one.
    """
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValidationFailed(
            f"Give the token a name of 1 to {NAME_MAX_LENGTH} characters.",
            errors={"name": [f"1 to {NAME_MAX_LENGTH} characters."]},
        )
    if key is None:
        key = new_key(OPERATOR_TOKEN_PREFIX)
    elif not is_operator_token(key) or len(key) < 40:
        raise ValueError("An operator token key starts with op_ and has at least 40 characters.")
    with transaction.atomic():
        token = OperatorToken.objects.create(
            user=user,
            name=name,
            digest=digest_of(key),
            prefix=key[:10],
            expires_at=timezone.now() + timedelta(days=settings.OPERATOR_TOKEN_DAYS),
        )
        _audit(user, token, "operator_token.created", actor)
    return token, key


def revoke_operator_token(*, user, token_id, actor: Actor) -> OperatorToken:
    """Delete one of `user`'s tokens; NotFound if `user` has no such token (someone else's included)."""
    with transaction.atomic():
        token = OperatorToken.objects.select_for_update().filter(pk=token_id, user=user).first()
        if token is None:
            raise NotFound("No such API token.")
        _audit(user, token, "operator_token.revoked", actor)
        OperatorToken.objects.filter(pk=token.pk).delete()
    return token


def _audit(user, token: OperatorToken, action: str, actor: Actor) -> None:
    scope = scope_of(user)
    uow = UnitOfWork()
    record_event(
        tenant=scope.tenant if scope else None,
        actor=actor,
        action=action,
        target=token,
        data={
            "name": token.name,
            "prefix": token.prefix,
            "owner": user.get_username(),
            "expires_at": token.expires_at.isoformat(),
        },
        uow=uow,
    )
    uow.flush()
