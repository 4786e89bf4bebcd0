"""Books that disagree, and checks of what a request changed: shared by the API and console tests."""

from contextlib import contextmanager
from dataclasses import dataclass

from core.models import AuditEvent
from players.tests.factories import PlayerFactory
from reconciliation.models import Finding, ReconciliationRun
from wallet.models import Deposit, Wallet, Withdrawal
from wallet.tests.builders import withdrawal_in_state
from wallet.tests.invariants import expect_no_change

from .helpers import sql
from .test_runs import stuck_deposit


@dataclass
class Books:
    """A casino whose books disagree in three ways, each found by a different check."""

    wallet: Wallet  # available balance raised by one cent: wallet_available_mismatch (critical)
    withdrawal: Withdrawal  # set paid without its withdraw_paid entry: paid_withdrawal_event_count (critical)
    deposit: Deposit  # left at the PSP for two days: stuck_deposit (medium)

    @property
    def expected(self) -> set[tuple[str, str, str, str]]:
        """(type, severity, object_type, object_id) of what a run over these books finds."""
        return {
            ("wallet_available_mismatch", "critical", "wallet", str(self.wallet.pk)),
            ("paid_withdrawal_event_count", "critical", "withdrawal", str(self.withdrawal.pk)),
            ("stuck_deposit", "medium", "deposit", str(self.deposit.pk)),
        }


def corrupted_books(tenant) -> Books:
    player = PlayerFactory(tenant=tenant)
    withdrawal = withdrawal_in_state("approved", player=player)
    sql("UPDATE wallet_withdrawal SET state = 'paid' WHERE id = %s", [withdrawal.pk])
    sql("UPDATE wallet_wallet SET balance_available = balance_available + 1 WHERE id = %s", [withdrawal.wallet_id])
    return Books(Wallet.objects.get(pk=withdrawal.wallet_id), withdrawal, stuck_deposit(tenant))


def seen(results: list[dict]) -> set[tuple[str, str, str, str]]:
    return {(r["type"], r["severity"], r["object_type"], r["object_id"]) for r in results}


def reconciliation_rows() -> tuple:
    runs = tuple(ReconciliationRun.objects.order_by("id").values_list("id", "status"))
    return runs, tuple(Finding.objects.order_by("id").values_list("id", "status", "note", "acted_by_id"))


@contextmanager
def nothing_changes(*, audit_actions: tuple[str, ...] = ()):
    """No money, no run, no finding and no audit event moves (but the listed refusal audits)."""
    before = reconciliation_rows()
    with expect_no_change(audit_actions=audit_actions):
        yield
    assert reconciliation_rows() == before


def audited(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))
