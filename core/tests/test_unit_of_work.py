"""The unit of work's fence: each rule it enforces, on the real database."""

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, models, transaction
from django.db.models.signals import pre_save
from django.test.utils import CaptureQueriesContext, isolate_apps

from core import unit_of_work
from core.actors import Actor
from core.audit import record_event
from core.models import AuditEvent, FormToken
from core.unit_of_work import UnitOfWork, UnitOfWorkMisuse, check_fenced_models, written_by_unit_of_work
from players.tests.factories import PlayerFactory
from tenants.tests.factories import TenantFactory, UserFactory
from wallet.ledger import post_money_event
from wallet.models import PayoutAttempt, Wallet
from wallet.tests.builders import withdrawal_in_state
from wallet.tests.invariants import expect_no_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def wallet():
    player = PlayerFactory(tenant=TenantFactory(allowed_currencies=["EUR"]))
    return Wallet.objects.create(tenant=player.tenant, player=player, currency="EUR")


def audit(uow: UnitOfWork, action: str) -> None:
    record_event(tenant=None, actor=Actor.system("tests"), action=action, uow=uow)


def test_a_flush_sends_every_queued_write_as_one_statement(wallet):
    # given an audit event and a balance change queued on one unit of work
    uow = UnitOfWork()
    audit(uow, "test.one_statement")
    uow.change_balance(wallet, available=0)
    # when it is flushed, then one statement writes both
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        uow.flush()
    assert len(queries) == 1
    assert AuditEvent.objects.filter(action="test.one_statement").count() == 1


def test_a_second_update_of_the_same_row_in_one_flush_is_refused():
    # given an attempt already queued for an update
    attempt = withdrawal_in_state("payout_pending").payout_attempts.get()
    uow = UnitOfWork()
    attempt.last_error = "first"
    uow.update(attempt, ("last_error",))
    # when the same row is queued for a second update, then it is refused loudly
    attempt.last_error = "second"
    with pytest.raises(UnitOfWorkMisuse, match="second update of PayoutAttempt"):
        uow.update(attempt, ("last_error",))
    # and nothing was written
    assert PayoutAttempt.objects.get(pk=attempt.pk).last_error == ""


def test_a_wallet_updated_and_moved_in_one_flush_is_refused(wallet):
    uow = UnitOfWork()
    uow.update(wallet, ("currency",))
    uow.change_balance(wallet, available=5)
    with expect_no_change(), transaction.atomic(), pytest.raises(UnitOfWorkMisuse, match=f"Wallet {wallet.pk}"):
        uow.flush()


def test_updates_of_different_rows_are_fine(wallet):
    other = Wallet.objects.create(tenant=wallet.tenant, player=wallet.player, currency="USD")
    uow = UnitOfWork()
    uow.update(wallet, ("currency",))
    uow.update(other, ("currency",))
    with transaction.atomic():
        uow.flush()


def test_flush_outside_an_atomic_block_is_refused():
    # given a queued audit event, and no transaction open (autocommit)
    uow = UnitOfWork()
    audit(uow, "test.outside_atomic")
    # when it is flushed outside transaction.atomic, then it is refused and nothing is written
    with pytest.raises(UnitOfWorkMisuse, match="outside transaction.atomic"):
        _flush_in_autocommit(uow)
    assert not AuditEvent.objects.filter(action="test.outside_atomic").exists()


def _flush_in_autocommit(uow: UnitOfWork) -> None:
    """pytest-django wraps each test in a transaction; step outside it as production code would be."""
    saved = connection.in_atomic_block
    connection.in_atomic_block = False
    try:
        uow.flush()
    finally:
        connection.in_atomic_block = saved


def test_a_failing_statement_names_its_step_and_constraint(wallet):
    # given a balance change that would take the wallet below zero
    uow = UnitOfWork()
    audit(uow, "test.failing_step")
    uow.change_balance(wallet, available=-1)
    # when it is flushed, then the error names the step and the constraint, and keeps its type
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        uow.flush()
    message = str(refused.value)
    assert f"balance of wallet {wallet.pk}" in message
    assert "wallet_available_nonnegative" in message
    assert "audit event" not in message  # only the step on the refused table is named


def test_a_model_not_declared_for_the_unit_of_work_is_refused():
    token = FormToken(user=UserFactory(), purpose="test")
    with pytest.raises(UnitOfWorkMisuse, match="FormToken is not declared"):
        UnitOfWork().insert(token)


def test_the_service_paths_require_a_unit_of_work(wallet):
    with pytest.raises(TypeError):
        record_event(tenant=None, actor=Actor.system("tests"), action="test.no_uow")
    with pytest.raises(TypeError):
        post_money_event(wallet=wallet, event_type="deposit_completed", source=None)


def test_the_project_passes_the_start_up_check():
    assert check_fenced_models() == []
    unit_of_work.refuse_to_start_unfenced()


def test_every_model_the_services_write_is_declared():
    labels = {model._meta.label for model in unit_of_work.fenced_models()}
    assert {
        "core.AuditEvent",
        "wallet.Deposit",
        "wallet.Withdrawal",
        "wallet.WithdrawalApproval",
        "wallet.DepositTransition",
        "wallet.WithdrawalTransition",
        "wallet.JournalEntry",
        "wallet.Posting",
        "wallet.Wallet",
        "wallet.PayoutAttempt",
    } <= labels


@isolate_apps("core")
def test_a_declared_model_with_its_own_save_fails_the_start_up_check(monkeypatch):
    class CustomSave(models.Model):
        def save(self, *args, **kwargs):  # noqa: DJ012 - the point of the test
            return super().save(*args, **kwargs)

    monkeypatch.setattr(unit_of_work, "_FENCED", {*unit_of_work._FENCED})
    written_by_unit_of_work(CustomSave)
    assert [error.id for error in check_fenced_models()] == ["core.E001"]
    with pytest.raises(ImproperlyConfigured, match="core.E001"):
        unit_of_work.refuse_to_start_unfenced()


def test_a_signal_receiver_on_a_declared_model_fails_the_start_up_check():
    def receiver(sender, **kwargs):
        pass

    pre_save.connect(receiver, sender=Wallet, weak=False)
    try:
        assert [(error.id, error.obj) for error in check_fenced_models()] == [("core.E002", Wallet)]
    finally:
        pre_save.disconnect(receiver, sender=Wallet)
    assert check_fenced_models() == []


def test_the_statement_cache_limit_is_raised_only_on_checked_psycopg_versions(monkeypatch):
    from psycopg import _queries

    monkeypatch.setattr(_queries, "MAX_CACHED_STATEMENT_PARAMS", 50)
    assert unit_of_work.raise_psycopg_statement_cache_limit("4.0.0") is False
    assert _queries.MAX_CACHED_STATEMENT_PARAMS == 50
    assert unit_of_work.raise_psycopg_statement_cache_limit(psycopg.__version__) is True
    assert _queries.MAX_CACHED_STATEMENT_PARAMS == unit_of_work.STATEMENT_CACHE_PARAMS
