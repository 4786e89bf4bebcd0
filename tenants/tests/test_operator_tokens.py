"""Operators' API tokens: made with an expiry and an audit event, revoked only by their owner, checked in one query."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authtoken.models import Token
from rest_framework.test import APIRequestFactory

from core.actors import Actor
from core.api_keys import digest_of
from core.errors import NotFound, ValidationFailed
from core.models import AuditEvent
from tenants.auth import OperatorTokenAuthentication
from tenants.models import OperatorToken
from tenants.operator_tokens import create_operator_token, operator_tokens, revoke_operator_token
from tenants.tests.factories import TenantFactory, operator_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant():
    return TenantFactory()


def make(user, name="month-end report"):
    return create_operator_token(user=user, name=name, actor=Actor.operator(user))


def authenticate(key: str):
    request = APIRequestFactory().get("/api/v1/admin/withdrawals/", HTTP_AUTHORIZATION=f"Token {key}")
    return OperatorTokenAuthentication().authenticate(request)


def test_a_new_token_expires_after_the_configured_days_and_only_its_digest_is_kept(finance, settings):
    settings.OPERATOR_TOKEN_DAYS = 7
    # when an operator makes a token
    before = timezone.now()
    token, key = make(finance)
    # then the key is returned once, the database keeps its digest and a recognisable prefix
    assert key.startswith("op_") and len(key) >= 40
    stored = OperatorToken.objects.get()
    assert (stored.user_id, stored.name, stored.digest, stored.prefix) == (
        finance.pk,
        "month-end report",
        digest_of(key),
        key[:10],
    )
    assert key not in {getattr(stored, f.attname) for f in OperatorToken._meta.concrete_fields}
    # and it expires seven days on, unused so far
    assert before + timedelta(days=7) <= stored.expires_at <= timezone.now() + timedelta(days=7)
    assert stored.last_used_at is None


def test_making_a_token_is_audited_without_the_key(finance, tenant):
    token, key = make(finance)
    event = AuditEvent.objects.get(action="operator_token.created")
    assert (event.tenant_id, event.actor_type, event.actor_user_id) == (tenant.pk, "operator", finance.pk)
    assert (event.target_type, event.target_id) == ("operatortoken", str(token.pk))
    assert event.data["name"] == "month-end report" and event.data["prefix"] == key[:10]
    assert key not in str(event.data) and digest_of(key) not in str(event.data)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_token_needs_a_name(finance, name):
    with pytest.raises(ValidationFailed):
        make(finance, name)
    assert not OperatorToken.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="operator_token.").exists()


def test_an_operator_lists_only_their_own_tokens(finance, finance2):
    mine, _ = make(finance)
    make(finance2)
    assert list(operator_tokens(finance)) == [mine]


def test_revoking_deletes_the_token_and_is_audited(finance, tenant):
    token, key = make(finance)
    # when its owner revokes it
    revoke_operator_token(user=finance, token_id=token.pk, actor=Actor.operator(finance))
    # then it is gone, audited, and the key opens nothing
    assert not OperatorToken.objects.exists()
    event = AuditEvent.objects.get(action="operator_token.revoked")
    assert (event.tenant_id, event.actor_user_id, event.target_id) == (tenant.pk, finance.pk, str(token.pk))
    with pytest.raises(exceptions.AuthenticationFailed):
        authenticate(key)


def test_another_operator_cannot_revoke_your_token(finance, finance2):
    # given finance's token
    token, key = make(finance)
    # when another operator of the same casino tries to revoke it, then it is "not found" and nothing changes
    with pytest.raises(NotFound):
        revoke_operator_token(user=finance2, token_id=token.pk, actor=Actor.operator(finance2))
    assert OperatorToken.objects.filter(pk=token.pk).exists()
    assert not AuditEvent.objects.filter(action="operator_token.revoked").exists()
    assert authenticate(key)[0] == finance


def test_an_unknown_token_id_is_not_found(finance):
    with pytest.raises(NotFound):
        revoke_operator_token(user=finance, token_id=987654, actor=Actor.operator(finance))


def test_a_token_authenticates_its_operator_in_one_query_and_notes_the_use(finance, django_assert_num_queries):
    key = operator_api_key(finance)
    # the first use: the lookup, and "last used" written
    with django_assert_num_queries(2):
        user, token = authenticate(key)
    assert user == finance and token.last_used_at is not None
    first_use = OperatorToken.objects.get().last_used_at
    # a use within the minute: the lookup alone
    with django_assert_num_queries(1):
        authenticate(key)
    assert OperatorToken.objects.get().last_used_at == first_use


def test_a_use_a_minute_later_is_noted(finance):
    key = operator_api_key(finance)
    OperatorToken.objects.update(last_used_at=timezone.now() - timedelta(minutes=2))
    authenticate(key)
    assert OperatorToken.objects.get().last_used_at > timezone.now() - timedelta(seconds=30)


def test_an_expired_token_is_refused_and_not_noted_as_used(finance):
    key = operator_api_key(finance, expires_in=timedelta(seconds=-1))
    with pytest.raises(exceptions.AuthenticationFailed, match="expired"):
        authenticate(key)
    assert OperatorToken.objects.get().last_used_at is None


def test_a_token_of_an_inactive_operator_is_refused(finance):
    key = operator_api_key(finance)
    finance.is_active = False
    finance.save(update_fields=["is_active"])
    with pytest.raises(exceptions.AuthenticationFailed):
        authenticate(key)


def test_other_kinds_of_token_are_refused_without_a_query(finance, django_assert_num_queries):
    # an operator's old DRF token and anything not made as an operator token open nothing here
    drf_key = Token.objects.create(user=finance).key
    for key in (drf_key, "ps_" + "a" * 43, "op_but-not-issued"):
        with django_assert_num_queries(0 if not key.startswith("op_") else 1):
            with pytest.raises(exceptions.AuthenticationFailed):
                authenticate(key)
