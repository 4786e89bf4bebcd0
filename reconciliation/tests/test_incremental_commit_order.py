"""Checkpoints against commit order: ids are handed out in one order, transactions commit in another.

No test transaction wraps these runs (transaction=True): payments commit, or stay open,
in their own sessions around a run's snapshot, as they do in production.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction

from players.tests.factories import PlayerFactory
from reconciliation import checkpoint
from reconciliation.models import Checkpoint, ReconciliationRun
from wallet.models import Posting
from wallet.tests.builders import withdraw
from wallet.tests.factories import fund

from .helpers import reconcile
from .test_incremental import ledger_sums, totals

pytestmark = pytest.mark.django_db(transaction=True)

INCREMENTAL = ReconciliationRun.Mode.INCREMENTAL


@pytest.fixture(autouse=True)
def _no_clock_margin(monkeypatch):
    monkeypatch.setattr(checkpoint, "CHANGE_MARGIN", timedelta(0))


class OpenPayment:
    """A withdrawal requested in its own session and transaction, committed only when told."""

    def __init__(self, player, amount: int):
        self.written, self.release, self.failure = threading.Event(), threading.Event(), []
        self.thread = threading.Thread(target=self._pay, args=(player, amount), daemon=True)

    def _pay(self, player, amount):
        try:
            with transaction.atomic():
                self.withdrawal = withdraw(player, amount)
                self.written.set()
                assert self.release.wait(30)
        except Exception as error:  # reported to the test by commit()
            self.failure.append(error)
            self.written.set()
        finally:
            connection.close()

    def begin(self) -> "OpenPayment":
        self.thread.start()
        assert self.written.wait(10) and not self.failure, self.failure
        return self

    def commit(self) -> None:
        self.release.set()
        self.thread.join(10)
        assert not self.failure, self.failure

    def posting_ids(self) -> list[int]:
        return list(Posting.objects.filter(entry__withdrawal_id=self.withdrawal.pk).values_list("id", flat=True))


def test_a_payment_that_took_its_ids_first_and_committed_last_is_counted_once(monkeypatch):
    # given two funded players and a checkpoint over them
    first, second = PlayerFactory(), PlayerFactory()
    fund(first, 100_00), fund(second, 100_00)
    reconcile()
    # and a run during which, between its start and its snapshot, one payment takes its ledger
    # ids and stays open while another takes later ids and commits
    payments = []
    settle = checkpoint.settle

    def race(start, **kwargs):
        payments.append(OpenPayment(first, 10_00).begin())
        withdraw(second, 20_00)
        return settle(start, **kwargs)

    monkeypatch.setattr(checkpoint, "settle", race)
    during = reconcile()
    monkeypatch.setattr(checkpoint, "settle", settle)
    (late,) = payments
    mark = during.checkpoint
    # when the open payment commits after the run, and the next run is incremental
    late.commit()
    after = reconcile(mode=INCREMENTAL)
    # (the run's snapshot saw the later ids, not the earlier ones of the open payment: the
    # checkpoint lists those as missing)
    assert mark.posting_settled < min(late.posting_ids()) < max(late.posting_ids()) < mark.posting_high
    assert set(late.posting_ids()) <= set(mark.posting_missing)
    # then it counted the late payment's postings once: no finding, and every wallet's carried
    # sums are its ledger's
    assert (after.mode, after.stats["since_checkpoint"], after.findings_count) == (INCREMENTAL, mark.pk, 0)
    assert totals() == ledger_sums()


def test_a_transaction_older_than_the_run_still_open_holds_the_checkpoint_back(monkeypatch):
    # given a checkpoint, then a payment begun (and written) before the next run starts, still open
    player = PlayerFactory()
    fund(player, 100_00)
    first = reconcile()
    open_payment = OpenPayment(player, 10_00).begin()
    # when a run cannot wait for it
    monkeypatch.setattr(checkpoint, "SETTLE_WAIT_SECONDS", 0.2)
    held = reconcile()
    # then the run's findings stand, but it leaves no checkpoint: ids at its start are not settled
    assert (held.status, held.findings_count) == ("succeeded", 0)
    assert held.stats["checkpoint"]["id"] is None and "not settled" in held.stats["checkpoint"]["reason"]
    assert list(Checkpoint.objects.values_list("run_id", flat=True)) == [first.pk]
    # and once the payment commits, the next incremental run starts from the last checkpoint and counts it
    open_payment.commit()
    after = reconcile(mode=INCREMENTAL)
    assert (after.stats["since_checkpoint"], after.findings_count) == (first.checkpoint.pk, 0)
    assert totals() == ledger_sums()


def test_a_run_waits_for_an_older_transaction_that_ends_soon():
    # given a payment begun before the run, that commits a moment later
    player = PlayerFactory()
    fund(player, 100_00)
    open_payment = OpenPayment(player, 10_00).begin()
    threading.Timer(0.3, open_payment.release.set).start()
    # when a run starts meanwhile
    run = reconcile()
    open_payment.commit()
    # then it waited for it and left its checkpoint
    assert run.checkpoint.pk
    assert reconcile(mode=INCREMENTAL).findings_count == 0
    assert totals() == ledger_sums()
