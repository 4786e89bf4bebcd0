"""The PSP's settlement report against our books: agreement, and each kind of disagreement.

The day's money moves the real way: deposits through the in-process sandbox PSP's
checkout and its signed webhook, payouts dispatched to the sandbox and confirmed by
webhook. Then one side is changed behind the other's back.
"""

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from payouts import dispatch
from payouts.checkout import start_checkout
from payouts.sandbox import engine
from payouts.sandbox.models import SandboxPayment, SandboxPayout
from payouts.tests.factories import ProviderAccountFactory
from payouts.tests.helpers import deliver_all, merchant_of
from players.tests.factories import PlayerFactory
from reconciliation import settlement
from reconciliation.models import Finding, FindingType, Severity
from tenants.tests.factories import TenantFactory
from wallet.models import Deposit, DepositState, Withdrawal, WithdrawalState
from wallet.services import approve_withdrawal, charge_back_deposit, charge_back_deposit_again
from wallet.tests.builders import AMOUNT, PSP, REASON, deposit, operator_of, withdraw
from wallet.tests.factories import fund

from .helpers import finding, found, reconcile

pytestmark = pytest.mark.django_db


def today():
    """The UTC day, read when the test runs (a module constant goes stale when the run crosses midnight)."""
    return timezone.now().date()


class Casino:
    """A tenant at the sandbox PSP with a player whose money moved through it today."""

    def __init__(self):
        self.account = ProviderAccountFactory(tenant=TenantFactory())
        self.tenant, self.merchant = self.account.tenant, merchant_of(self.account)
        self.player = PlayerFactory(tenant=self.tenant)
        self.client = Client()

    def paid_deposit(self, amount: int = 100_00) -> Deposit:
        """The player pays at the PSP's checkout; the PSP's webhook completes the deposit."""
        opened = start_checkout(deposit(self.player, amount))
        engine.complete_checkout(opened.provider_reference, "paid")
        deliver_all(self.client)
        return Deposit.objects.get(pk=opened.pk)

    def paid_withdrawal(self, amount: int = AMOUNT) -> Withdrawal:
        """Approved, sent to the PSP with the attempt id as key, confirmed by the PSP's webhook."""
        withdrawal = withdraw(self.player, amount)
        approve_withdrawal(withdrawal, actor=operator_of(self.tenant), reason=REASON)
        dispatch.dispatch_payout(withdrawal.pk)
        deliver_all(self.client)
        return Withdrawal.objects.get(pk=withdrawal.pk)

    def reconcile(self, **options):
        return reconcile(self.tenant, settlement_date=today(), **options)


@pytest.fixture
def casino():
    casino = Casino()
    casino.deposit, casino.withdrawal = casino.paid_deposit(), casino.paid_withdrawal()
    return casino


def _attempt(withdrawal):
    return withdrawal.payout_attempts.get()


def _settlement(run) -> set:
    return {(t, o, i) for t, o, i in found(run) if t.startswith("settlement")}


def test_the_psp_and_the_books_agree(casino):
    # given a day with a deposit and a payout settled through the PSP
    assert (casino.deposit.state, casino.withdrawal.state) == (DepositState.COMPLETED, WithdrawalState.PAID)
    # when the tenant is reconciled with that day's settlement report
    run = casino.reconcile()
    # then the report was read (one payment, one payout) and nothing disagrees
    assert run.findings_count == 0
    assert run.settlement_date == today()
    ((report),) = run.stats["settlement_reports"]
    assert (report["rows"], report["error"], report["source"]) == (2, "", "sandbox (in-process)")
    assert "settlement" in run.stats["checks"]


def test_a_payment_and_a_payout_the_product_does_not_know(casino):
    # given the PSP settled a payment for a reference that is none of our deposits,
    # and a payout whose key is none of our attempts
    stranger = engine.create_payment(casino.merchant, reference=str(uuid.uuid4()), amount=5_00, currency="EUR")
    engine.complete_checkout(stranger.id, "paid")
    unknown = engine.create_payout(casino.merchant, idempotency_key="not-ours", amount=7_00, currency="EUR")
    # when reconciled with the day's report
    run = casino.reconcile()
    # then both are reported as missing in the product, named by the PSP's ids
    assert _settlement(run) == {
        (FindingType.SETTLEMENT_MISSING_IN_PRODUCT, "psp_payment", stranger.id),
        (FindingType.SETTLEMENT_MISSING_IN_PRODUCT, "psp_payout", unknown.id),
    }
    result = finding(run, FindingType.SETTLEMENT_MISSING_IN_PRODUCT, object_id=stranger.id)
    assert (result.expected, result.actual) == (None, {"amount": 5_00, "currency": "EUR", "status": "paid"})
    assert (result.tenant_id, result.severity) == (casino.tenant.pk, Severity.HIGH)


def test_money_the_product_settled_that_the_psp_does_not_list(casino):
    # given a deposit completed in our books that never went through the PSP,
    # and the PSP's record of our payout gone
    elsewhere = fund(casino.player, 3_00)
    direct = Deposit.objects.filter(wallet=elsewhere, amount=3_00).get()
    SandboxPayout.objects.filter(idempotency_key=str(_attempt(casino.withdrawal).pk)).delete()
    # when reconciled with the day's report
    run = casino.reconcile()
    # then both are missing at the PSP
    assert _settlement(run) == {
        (FindingType.SETTLEMENT_MISSING_AT_PSP, "deposit", str(direct.pk)),
        (FindingType.SETTLEMENT_MISSING_AT_PSP, "withdrawal", str(casino.withdrawal.pk)),
    }
    payout = finding(run, FindingType.SETTLEMENT_MISSING_AT_PSP, object_type="withdrawal")
    assert payout.detail["payout_attempt_id"] == str(_attempt(casino.withdrawal).pk)
    assert (payout.expected, payout.actual) == ({"psp_status": "succeeded"}, None)


def test_amounts_that_differ(casino):
    # given the PSP settled 1 cent more than our deposit
    SandboxPayment.objects.filter(reference=str(casino.deposit.pk)).update(amount=casino.deposit.amount + 1)
    # when reconciled
    run = casino.reconcile()
    # then the amount mismatch is reported on the deposit: ours expected, theirs found
    assert _settlement(run) == {(FindingType.SETTLEMENT_AMOUNT_MISMATCH, "deposit", str(casino.deposit.pk))}
    result = finding(run, FindingType.SETTLEMENT_AMOUNT_MISMATCH)
    assert (result.expected, result.actual, result.severity) == (
        casino.deposit.amount,
        casino.deposit.amount + 1,
        Severity.CRITICAL,
    )
    assert result.detail["psp_amount"] == "100.01 EUR"


def test_currencies_that_differ(casino):
    # given the PSP paid our payout in another currency
    SandboxPayout.objects.filter(idempotency_key=str(_attempt(casino.withdrawal).pk)).update(currency="USD")
    # when reconciled
    run = casino.reconcile()
    # then the currency mismatch is reported on the withdrawal
    assert _settlement(run) == {(FindingType.SETTLEMENT_CURRENCY_MISMATCH, "withdrawal", str(casino.withdrawal.pk))}
    result = finding(run, FindingType.SETTLEMENT_CURRENCY_MISMATCH)
    assert (result.expected, result.actual, result.detail["payout_attempt_id"]) == (
        "EUR",
        "USD",
        str(_attempt(casino.withdrawal).pk),
    )


def test_outcomes_that_differ(casino):
    # given a payment the PSP settled whose webhook never reached us (the deposit is still pending here),
    # and a payout the PSP reports failed that we recorded as paid
    lost = start_checkout(deposit(casino.player, 40_00))
    engine.complete_checkout(lost.provider_reference, "paid")
    SandboxPayout.objects.filter(idempotency_key=str(_attempt(casino.withdrawal).pk)).update(status="failed")
    # when reconciled
    run = casino.reconcile()
    # then both outcomes are reported as state mismatches
    assert _settlement(run) == {
        (FindingType.SETTLEMENT_STATE_MISMATCH, "deposit", str(lost.pk)),
        (FindingType.SETTLEMENT_STATE_MISMATCH, "withdrawal", str(casino.withdrawal.pk)),
    }
    payment = finding(run, FindingType.SETTLEMENT_STATE_MISMATCH, object_type="deposit")
    assert (payment.expected, payment.actual) == (
        {"psp_status": "pending_provider", "state": "pending_provider"},
        {"psp_status": "paid"},
    )
    payout = finding(run, FindingType.SETTLEMENT_STATE_MISMATCH, object_type="withdrawal")
    assert (payout.expected, payout.actual) == (
        {"psp_status": "succeeded", "state": "succeeded"},
        {"psp_status": "failed"},
    )


def test_a_settled_item_of_another_day_is_not_compared(casino):
    # given yesterday's report (nothing settled then)
    # when the tenant is reconciled with it
    run = reconcile(casino.tenant, settlement_date=today() - timedelta(days=1))
    # then neither side has anything that day
    assert run.findings_count == 0
    assert run.stats["settlement_reports"][0]["rows"] == 0


def test_a_tenant_run_compares_only_its_own_report(casino):
    # given another casino at the PSP whose deposit the PSP settled for a different amount
    other = Casino()
    theirs = other.paid_deposit()
    SandboxPayment.objects.filter(reference=str(theirs.pk)).update(amount=1)
    # when the first casino is reconciled, then every casino
    mine, everyone = casino.reconcile(), reconcile(settlement_date=today())
    # then only the all-tenants run sees the other casino's disagreement
    assert mine.findings_count == 0
    assert _settlement(everyone) == {(FindingType.SETTLEMENT_AMOUNT_MISMATCH, "deposit", str(theirs.pk))}
    assert len(everyone.stats["settlement_reports"]) == 2


def test_an_unreachable_psp_is_a_finding_not_a_failed_run(casino):
    # given the PSP's API is configured where nothing listens
    casino.account.base_url = "http://127.0.0.1:9"
    casino.account.save()
    # when reconciled with a settlement day
    run = casino.reconcile()
    # then the run succeeded, and says the report could not be read
    assert run.status == "succeeded"
    assert found(run) == {(FindingType.SETTLEMENT_REPORT_UNAVAILABLE, "settlement_report", today().isoformat())}
    assert "could not be reached" in finding(run, FindingType.SETTLEMENT_REPORT_UNAVAILABLE).actual


def test_a_report_given_as_a_csv_file(casino, tmp_path):
    # given the operator downloaded the day's report, in which the deposit's amount was altered
    rows = engine.settlement_rows(casino.merchant, today())
    for row in rows:
        if row["type"] == "payment":
            row["amount"] = 1
    path = tmp_path / "settlement.csv"
    path.write_text(
        "type,psp_id,reference,amount,currency,status\n"
        + "".join(
            f"{r['type']},{r['psp_id']},{r['reference']},{r['amount']},{r['currency']},{r['status']}\n" for r in rows
        )
    )
    # when the tenant is reconciled against that file
    run = casino.reconcile(settlement_file=str(path))
    # then the file was compared (not the PSP's live report)
    assert _settlement(run) == {(FindingType.SETTLEMENT_AMOUNT_MISMATCH, "deposit", str(casino.deposit.pk))}
    assert run.stats["settlement_reports"][0]["source"] == str(path)


def test_an_unreadable_csv_file_is_reported(casino, tmp_path):
    # given a file with the wrong columns, and a path that does not exist
    bad = tmp_path / "bad.csv"
    bad.write_text("id,amount\n1,2\n")
    reasons = []
    for path in (bad, tmp_path / "missing.csv"):
        # when reconciled against it
        run = casino.reconcile(settlement_file=str(path))
        # then the report is unavailable, with the reason
        assert run.counts_by_type == {FindingType.SETTLEMENT_REPORT_UNAVAILABLE: 1}
        reasons.append(Finding.objects.get(run=run).actual)
    assert "missing columns: currency, psp_id, reference, status, type" in reasons[0]
    assert "No such file" in reasons[1]


def test_parsing_refuses_rows_it_cannot_read():
    with pytest.raises(settlement.SettlementFormatError, match="line 2"):
        settlement.parse_csv("type,psp_id,reference,amount,currency,status\npayment,p1,r1,12.50,EUR,paid\n")
    with pytest.raises(settlement.SettlementFormatError, match="type must be"):
        settlement.parse_csv("type,psp_id,reference,amount,currency,status\nrefund,p1,r1,1,EUR,paid\n")
    rows = settlement.parse_csv("type,psp_id,reference,amount,currency,status\npayout,po_1,k,125,eur,succeeded\n")
    assert rows == [settlement.SettlementRow("payout", "po_1", "k", 125, "EUR", "succeeded")]


# --- disputes and returns (section 16) ----------------------------------------------------------


def test_chargebacks_reversals_and_returns_agree_with_the_psp(casino):
    # given a deposit charged back and reversed, another charged back, and a payout returned, all today
    reversed_ = casino.paid_deposit(40_00)
    charged = casino.paid_deposit(30_00)
    withdrawal = casino.paid_withdrawal(25_00)
    engine.dispute(reversed_.provider_reference, "chargeback")
    engine.dispute(reversed_.provider_reference, "chargeback-reversal")
    engine.dispute(charged.provider_reference, "chargeback")
    attempt = withdrawal.payout_attempts.get()
    engine.return_payout(casino.merchant, str(attempt.pk))
    deliver_all(casino.client)
    assert Withdrawal.objects.get(pk=withdrawal.pk).state == "returned"
    kinds = sorted(row["type"] for row in engine.settlement_rows(casino.merchant, today()))
    assert [kind for kind in kinds if kind not in ("payment", "payout")] == [
        "chargeback",
        "chargeback",
        "chargeback_reversal",
        "payout_return",
    ]
    # when the day is reconciled, then the report and the books agree
    run = reconcile(casino.tenant, settlement_date=today())
    assert found(run) == set()


def test_a_chargeback_or_return_the_books_do_not_show_is_found(casino):
    # given a chargeback and a payout return the PSP made whose webhooks never reached the product
    charged = casino.paid_deposit(30_00)
    withdrawal = casino.paid_withdrawal(25_00)
    engine.dispute(charged.provider_reference, "chargeback")
    engine.return_payout(casino.merchant, str(withdrawal.payout_attempts.get().pk))
    # when the day is reconciled
    run = reconcile(casino.tenant, settlement_date=today())
    # then both are outcomes that differ: the PSP says charged back and returned, the books completed and paid
    assert found(run) == {
        (FindingType.SETTLEMENT_STATE_MISMATCH, "deposit", str(charged.pk)),
        (FindingType.SETTLEMENT_STATE_MISMATCH, "withdrawal", str(withdrawal.pk)),
    }
    mismatch = finding(run, FindingType.SETTLEMENT_STATE_MISMATCH, object_type="deposit")
    assert (mismatch.expected, mismatch.actual) == (
        {"psp_status": "completed", "state": "completed"},
        {"psp_status": "charged_back"},
    )


def test_a_chargeback_booked_here_that_the_psp_does_not_list_is_found(casino):
    # given a chargeback booked from a webhook the PSP's report does not list (sent by someone else)
    charged = casino.paid_deposit(30_00)
    charge_back_deposit(charged, actor=PSP)
    run = reconcile(casino.tenant, settlement_date=today())
    result = finding(run, FindingType.SETTLEMENT_MISSING_AT_PSP)
    assert (result.object_type, result.object_id, result.detail["type"]) == ("deposit", str(charged.pk), "chargeback")


def test_second_chargebacks_agree_with_the_psp_and_one_either_side_misses_is_found(casino):
    # given three deposits charged back and reversed at the PSP and in the books
    agreed, unheard, unlisted = (casino.paid_deposit(amount) for amount in (40_00, 20_00, 10_00))
    for disputed in (agreed, unheard, unlisted):
        engine.dispute(disputed.provider_reference, "chargeback")
        engine.dispute(disputed.provider_reference, "chargeback-reversal")
    deliver_all(casino.client)
    # when the first is charged back again at the PSP and its webhook arrives; the second's never arrives;
    # and the third is booked as charged back again from a webhook the PSP's report does not back
    engine.dispute(agreed.provider_reference, "second-chargeback")
    deliver_all(casino.client)
    engine.dispute(unheard.provider_reference, "second-chargeback")
    charge_back_deposit_again(unlisted, actor=PSP)
    assert [Deposit.objects.get(pk=d.pk).state for d in (agreed, unheard, unlisted)] == [
        "charged_back_again",
        "chargeback_reversed",
        "charged_back_again",
    ]
    run = reconcile(casino.tenant, settlement_date=today())
    # then the one that agrees is quiet, the other two are found
    assert found(run) == {
        (FindingType.SETTLEMENT_STATE_MISMATCH, "deposit", str(unheard.pk)),
        (FindingType.SETTLEMENT_MISSING_AT_PSP, "deposit", str(unlisted.pk)),
    }
    mismatch = finding(run, FindingType.SETTLEMENT_STATE_MISMATCH)
    assert (mismatch.detail["type"], mismatch.actual) == ("second_chargeback", {"psp_status": "charged_back"})
    assert finding(run, FindingType.SETTLEMENT_MISSING_AT_PSP).detail["type"] == "second_chargeback"


def test_a_second_chargeback_of_a_deposit_the_books_show_charged_back_once_is_found(casino):
    # given a deposit charged back here, while the PSP went on to reverse it and charge it back again
    # and neither later webhook reached the books
    charged = casino.paid_deposit(30_00)
    engine.dispute(charged.provider_reference, "chargeback")
    deliver_all(casino.client)
    engine.dispute(charged.provider_reference, "chargeback-reversal")
    engine.dispute(charged.provider_reference, "second-chargeback")
    assert Deposit.objects.get(pk=charged.pk).state == "charged_back"
    # when the day is reconciled, then both later steps are outcomes that differ
    run = reconcile(casino.tenant, settlement_date=today())
    kinds = {
        f.detail["type"]: (f.expected, f.actual)
        for f in Finding.objects.filter(run=run, type=FindingType.SETTLEMENT_STATE_MISMATCH)
    }
    assert kinds["second_chargeback"] == (
        {"psp_status": "charged_back once", "state": "charged_back"},
        {"psp_status": "charged_back"},
    )
    assert "chargeback_reversal" in kinds
