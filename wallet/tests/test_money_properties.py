"""A stateful property test over the service functions (hypothesis RuleBasedStateMachine).

Random sequences of deposits, withdrawals and every decision on them, legal or not,
against a model of what the balances must be. After every step the invariants are
checked by SQL on the real database: no negative balance, wallets equal their ledger,
every journal entry balances, money in = money out, one money event per source.
"""

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from core.actors import Actor
from core.errors import DomainError
from players.tests.factories import PlayerFactory
from tenants.tests.factories import CurrencyLimitFactory, OperatorFactory, TenantFactory
from wallet.models import Deposit, PayoutAttempt, Withdrawal, WithdrawalState
from wallet.services import (
    approve_withdrawal,
    cancel_withdrawal,
    complete_deposit,
    create_deposit,
    fail_deposit,
    mark_deposit_pending,
    mark_withdrawal_paid,
    record_payout_failed,
    record_payout_succeeded,
    reject_withdrawal,
    request_withdrawal,
    retry_payout,
    start_payout,
)

PSP = Actor.psp("sandbox")
SYSTEM = Actor.system("property-test")
AMOUNTS = st.integers(min_value=1, max_value=60_000)

INVARIANTS = {
    "negative balance": "SELECT count(*) FROM wallet_wallet WHERE balance_available < 0 OR balance_held < 0",
    "wallet differs from its ledger": """
        SELECT count(*) FROM wallet_wallet w LEFT JOIN (
            SELECT wallet_id,
                   sum(amount) FILTER (WHERE account = 'player_available') AS available,
                   sum(amount) FILTER (WHERE account = 'player_held') AS held
            FROM wallet_posting WHERE wallet_id IS NOT NULL GROUP BY wallet_id) l ON l.wallet_id = w.id
        WHERE w.balance_available <> coalesce(l.available, 0) OR w.balance_held <> coalesce(l.held, 0)""",
    "unbalanced journal entry": """
        SELECT count(*) FROM (SELECT entry_id FROM wallet_posting GROUP BY entry_id HAVING sum(amount) <> 0) x""",
    "player money differs from deposits minus paid withdrawals": """
        SELECT count(*) FROM (
            SELECT w.tenant_id, w.currency, sum(w.balance_available + w.balance_held) AS held_by_players
            FROM wallet_wallet w GROUP BY 1, 2) m
        LEFT JOIN (SELECT tenant_id, currency, sum(amount) AS n FROM wallet_deposit WHERE state = 'completed'
                   GROUP BY 1, 2) d USING (tenant_id, currency)
        LEFT JOIN (SELECT tenant_id, currency, sum(amount) AS n FROM wallet_withdrawal WHERE state = 'paid'
                   GROUP BY 1, 2) p USING (tenant_id, currency)
        WHERE m.held_by_players <> coalesce(d.n, 0) - coalesce(p.n, 0)""",
    "paid withdrawal without exactly one withdraw_paid": """
        SELECT count(*) FROM wallet_withdrawal w WHERE w.state = 'paid' AND (
            SELECT count(*) FROM wallet_journalentry e
            WHERE e.withdrawal_id = w.id AND e.event_type = 'withdraw_paid') <> 1""",
    "completed deposit without exactly one deposit_completed": """
        SELECT count(*) FROM wallet_deposit d WHERE d.state = 'completed' AND (
            SELECT count(*) FROM wallet_journalentry e
            WHERE e.deposit_id = d.id AND e.event_type = 'deposit_completed') <> 1""",
    "more than one successful payout attempt": """
        SELECT count(*) FROM (SELECT withdrawal_id FROM payouts_payoutattempt WHERE status = 'succeeded'
                              GROUP BY 1 HAVING count(*) > 1) x""",
}


class MoneyMachine(RuleBasedStateMachine):
    """The model: what each player's available and held balance must be."""

    deposits = Bundle("deposits")
    withdrawals = Bundle("withdrawals")

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()  # every example runs in a savepoint and leaves nothing behind
        self.available: dict[int, int] = {}
        self.held: dict[int, int] = {}

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @initialize()
    def casino(self):
        tenant = TenantFactory(allowed_currencies=["EUR"])
        CurrencyLimitFactory(
            policy=tenant.policy, currency="EUR", daily_withdraw_limit=120_000, four_eyes_amount=45_000
        )
        tenant.policy.payout_retry_limit = 3
        tenant.policy.save()
        self.players = [PlayerFactory(tenant=tenant) for _ in range(2)]
        for player in self.players:
            self.available[player.pk] = self.held[player.pk] = 0
            opening = create_deposit(player=player, amount=100_000, currency="EUR", actor=SYSTEM)
            mark_deposit_pending(opening, actor=PSP, provider_reference=f"pay-{opening.pk}")
            complete_deposit(opening, actor=PSP)
            self.available[player.pk] = 100_000
        self.approvers = [Actor.operator(OperatorFactory(tenant=tenant).user) for _ in range(2)]
        self.payer = Actor.operator(OperatorFactory(tenant=tenant).user)

    # -- deposits ------------------------------------------------------------------

    @rule(target=deposits, who=st.integers(0, 1), amount=AMOUNTS)
    def open_deposit(self, who, amount):
        player = self.players[who]
        deposit = create_deposit(player=player, amount=amount, currency="EUR", actor=Actor.player(player.user))
        return mark_deposit_pending(deposit, actor=PSP, provider_reference=f"pay-{deposit.pk}").pk

    @rule(deposit=deposits)
    def deposit_succeeds(self, deposit):
        before = Deposit.objects.get(pk=deposit).state
        done = self._try(complete_deposit, deposit, actor=PSP)
        if done and before == "pending_provider":
            d = Deposit.objects.get(pk=deposit)
            self.available[d.player_id] += d.amount

    @rule(deposit=deposits)
    def deposit_fails(self, deposit):
        self._try(fail_deposit, deposit, actor=PSP, reason="declined")

    # -- withdrawals -----------------------------------------------------------------

    @rule(target=withdrawals, who=st.integers(0, 1), amount=AMOUNTS)
    def request(self, who, amount):
        player = self.players[who]
        try:
            withdrawal = request_withdrawal(
                player=player, amount=amount, currency="EUR", actor=Actor.player(player.user)
            )
        except DomainError:
            return multiple()  # insufficient funds or a daily limit: refused, nothing moved
        self.available[player.pk] -= amount
        self.held[player.pk] += amount
        return withdrawal.pk

    @rule(withdrawal=withdrawals, approver=st.integers(0, 1))
    def approve(self, withdrawal, approver):
        if withdrawal is not None:
            self._try(approve_withdrawal, withdrawal, actor=self.approvers[approver], reason="checked")

    @rule(withdrawal=withdrawals)
    def reject(self, withdrawal):
        self._release(withdrawal, reject_withdrawal, actor=self.payer, reason="not eligible")

    @rule(withdrawal=withdrawals)
    def cancel(self, withdrawal):
        if withdrawal is not None:
            owner = Withdrawal.objects.get(pk=withdrawal).player.user
            self._release(withdrawal, cancel_withdrawal, actor=Actor.player(owner))

    @rule(withdrawal=withdrawals)
    def mark_paid(self, withdrawal):
        self._pay(withdrawal, lambda: mark_withdrawal_paid(withdrawal, actor=self.payer, reason="bank transfer"))

    @rule(withdrawal=withdrawals)
    def start(self, withdrawal):
        if withdrawal is not None:
            self._try(start_payout, withdrawal, actor=SYSTEM, provider="sandbox")

    @rule(withdrawal=withdrawals, succeeded=st.booleans())
    def psp_reports(self, withdrawal, succeeded):
        if withdrawal is None:
            return
        attempt = PayoutAttempt.objects.filter(withdrawal_id=withdrawal).order_by("-number").first()
        if attempt is None:
            return
        if succeeded:
            self._pay(withdrawal, lambda: record_payout_succeeded(attempt, actor=PSP))
        else:
            self._try(record_payout_failed, attempt, actor=PSP, reason="bank down")

    @rule(withdrawal=withdrawals)
    def retry(self, withdrawal):
        if withdrawal is not None:
            self._try(retry_payout, withdrawal, actor=self.approvers[0], reason="try again")

    # -- invariants ------------------------------------------------------------------

    @invariant()
    def books_hold(self):
        with connection.cursor() as cursor:
            for name, sql in INVARIANTS.items():
                cursor.execute(sql)
                assert cursor.fetchone()[0] == 0, f"invariant broken: {name}"

    @invariant()
    def balances_match_the_model(self):
        for player in getattr(self, "players", []):
            wallet = player.wallets.filter(currency="EUR").first()
            actual = (wallet.balance_available, wallet.balance_held) if wallet else (0, 0)
            assert actual == (self.available[player.pk], self.held[player.pk])

    # -- helpers ---------------------------------------------------------------------

    def _try(self, service, *args, **kwargs) -> bool:
        try:
            service(*args, **kwargs)
            return True
        except DomainError:
            return False  # an illegal move for the current state: refused, nothing changed

    def _release(self, withdrawal, service, **kwargs):
        if withdrawal is None:
            return
        before = Withdrawal.objects.get(pk=withdrawal)
        if self._try(service, withdrawal, **kwargs) and before.state in (
            WithdrawalState.REQUESTED,
            WithdrawalState.PAYOUT_FAILED,
        ):
            after = Withdrawal.objects.get(pk=withdrawal)
            if after.state != before.state:
                self.available[after.player_id] += after.amount
                self.held[after.player_id] -= after.amount

    def _pay(self, withdrawal, act):
        if withdrawal is None:
            return
        before = Withdrawal.objects.get(pk=withdrawal).state
        try:
            act()
        except DomainError:
            return
        after = Withdrawal.objects.get(pk=withdrawal)
        if before != WithdrawalState.PAID and after.state == WithdrawalState.PAID:
            self.held[after.player_id] -= after.amount


@pytest.mark.django_db
def test_money_path_invariants_hold_for_random_sequences():
    run_state_machine_as_test(
        MoneyMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
