"""The PSP's settlement report for a day, compared with what the product recorded.

A settlement report (CSV: type,psp_id,reference,amount,currency,status) lists what
the PSP settled for one merchant on one UTC day: payments (reference = our deposit
id) and payouts (reference = our payout attempt id, the idempotency key we sent), and
what came back later (section 16): chargebacks, chargeback reversals and second chargebacks
(reference: the deposit id) and payout returns (reference: the attempt id), on the day they happened.

Reports are read before the reconciliation snapshot is opened (no network call inside
a transaction), then compared with one SQL statement for every tenant at once: the
report rows go in as arrays and meet our deposits and payout attempts in PostgreSQL.

Disagreements:
- settlement_missing_in_product: the PSP settled something we have no record of;
- settlement_missing_at_psp: we completed a deposit or a payout that day, the PSP's
  report does not list it;
- settlement_amount_mismatch / settlement_currency_mismatch;
- settlement_state_mismatch: the PSP's outcome differs from ours (paid at the PSP
  but not completed here, a payout failed here but succeeded there, a chargeback the
  deposit does not show, ...).
"""

import csv
import io
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from django.conf import settings

from core import days
from core.money import CURRENCY_EXPONENTS
from reconciliation.checks import Found, Scope, money, rows
from reconciliation.models import FindingType
from wallet.models import DepositState, WithdrawalState

COLUMNS = ["type", "psp_id", "reference", "amount", "currency", "status"]
PAYMENT, PAYOUT = "payment", "payout"
CHARGEBACK, CHARGEBACK_REVERSAL, PAYOUT_RETURN = "chargeback", "chargeback_reversal", "payout_return"
SECOND_CHARGEBACK = "second_chargeback"
TYPES = (PAYMENT, PAYOUT, CHARGEBACK, CHARGEBACK_REVERSAL, SECOND_CHARGEBACK, PAYOUT_RETURN)
DEPOSIT_TYPES = (PAYMENT, CHARGEBACK, CHARGEBACK_REVERSAL, SECOND_CHARGEBACK)  # their reference is our deposit id
# The PSP's status that matches each of our outcomes.
PAYMENT_STATUS = {
    DepositState.COMPLETED: "paid",
    DepositState.FAILED: "failed",
    # A disputed payment was still paid (settled) on its day; the dispute is a later event.
    DepositState.CHARGED_BACK: "paid",
    DepositState.CHARGEBACK_REVERSED: "paid",
    DepositState.CHARGED_BACK_AGAIN: "paid",
}
_SETTLED_DEPOSITS = "('completed', 'charged_back', 'chargeback_reversed', 'charged_back_again')"
PAYOUT_STATUS = {"succeeded": "succeeded", "failed": "failed", "pending": "pending"}
# Disputes and returns (section 16): compared with the deposit's or the withdrawal's state.
CHARGEBACK_STATUS = dict.fromkeys(
    (DepositState.CHARGED_BACK, DepositState.CHARGEBACK_REVERSED, DepositState.CHARGED_BACK_AGAIN), "charged_back"
)
REVERSAL_STATUS = {DepositState.CHARGEBACK_REVERSED: "reversed", DepositState.CHARGED_BACK_AGAIN: "reversed"}
# A deposit charged back only once is no match for the PSP's second chargeback, though its state
# is spelled like the PSP's status.
SECOND_CHARGEBACK_STATUS = {
    DepositState.CHARGED_BACK_AGAIN: "charged_back",
    DepositState.CHARGED_BACK: "charged_back once",
}
# The deposit state each dispute row of the report is booked as (the 'ours' side of the comparison).
DISPUTE_TYPE_BY_STATE = {
    DepositState.CHARGED_BACK: CHARGEBACK,
    DepositState.CHARGEBACK_REVERSED: CHARGEBACK_REVERSAL,
    DepositState.CHARGED_BACK_AGAIN: SECOND_CHARGEBACK,
}
RETURN_STATUS = {WithdrawalState.RETURNED: "returned"}
STATUS_BY_TYPE = {
    PAYMENT: PAYMENT_STATUS,
    PAYOUT: PAYOUT_STATUS,
    CHARGEBACK: CHARGEBACK_STATUS,
    CHARGEBACK_REVERSAL: REVERSAL_STATUS,
    SECOND_CHARGEBACK: SECOND_CHARGEBACK_STATUS,
    PAYOUT_RETURN: RETURN_STATUS,
}


class SettlementFormatError(ValueError):
    """The report is not the CSV we expect; nothing of it is compared."""


@dataclass(frozen=True)
class SettlementRow:
    type: str
    psp_id: str
    reference: str
    amount: int
    currency: str
    status: str

    @property
    def reference_uuid(self) -> uuid.UUID | None:
        try:
            return uuid.UUID(self.reference)
        except ValueError:
            return None


@dataclass
class SettlementReport:
    """One tenant's report for one day, or why it could not be read (`error`)."""

    tenant_id: int
    day: date
    source: str
    rows: list[SettlementRow] = field(default_factory=list)
    error: str = ""


def parse_rows(records) -> list[SettlementRow]:
    """Validate dicts with the report's columns (from csv.DictReader or the in-process sandbox)."""
    parsed = []
    for number, record in enumerate(records, start=2):  # line 1 is the header
        try:
            kind = str(record["type"]).strip()
            if kind not in TYPES:
                raise ValueError(f"type must be one of {', '.join(TYPES)}, not {kind!r}")
            parsed.append(
                SettlementRow(
                    type=kind,
                    psp_id=str(record["psp_id"]).strip(),
                    reference=str(record["reference"]).strip(),
                    amount=int(str(record["amount"]).strip()),
                    currency=str(record["currency"]).strip().upper(),
                    status=str(record["status"]).strip(),
                )
            )
        except (KeyError, ValueError, TypeError) as error:
            raise SettlementFormatError(f"line {number}: {error}") from None
    return parsed


def parse_csv(text: str) -> list[SettlementRow]:
    reader = csv.DictReader(io.StringIO(text))
    missing = set(COLUMNS) - set(reader.fieldnames or [])
    if missing:
        raise SettlementFormatError(f"missing columns: {', '.join(sorted(missing))}")
    return parse_rows(reader)


def read_file(tenant_id: int, day: date, path: str | Path) -> SettlementReport:
    """A report an operator downloaded from the PSP, given on the command line."""
    report = SettlementReport(tenant_id, day, source=str(path))
    try:
        report.rows = parse_csv(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, SettlementFormatError) as error:
        report.error = str(error)
    return report


def fetch_report(account, day: date) -> SettlementReport:
    """The report of a tenant's PSP account: over HTTP when it has a base_url, else in-process."""
    if account.provider != "sandbox":
        return SettlementReport(
            account.tenant_id, day, source=account.provider, error=f"{account.provider} has no settlement report here"
        )
    if not account.base_url:
        return _in_process_report(account, day)
    url = f"{account.base_url.rstrip('/')}/v1/settlements/{day.isoformat()}.csv"
    report = SettlementReport(account.tenant_id, day, source=url)
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {account.api_key}"})  # noqa: S310
    timeout = getattr(settings, "PSP_TIMEOUT_SECONDS", 5.0)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - operator configuration
            report.rows = parse_csv(response.read().decode("utf-8-sig"))
    except urllib.error.HTTPError as error:
        report.error = f"the PSP answered {error.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        report.error = f"the PSP could not be reached: {getattr(error, 'reason', error)}"
    except SettlementFormatError as error:
        report.error = f"unreadable report: {error}"
    return report


def _in_process_report(account, day: date) -> SettlementReport:
    from payouts.sandbox import engine
    from payouts.sandbox.models import SandboxMerchant

    report = SettlementReport(account.tenant_id, day, source="sandbox (in-process)")
    merchant = SandboxMerchant.objects.filter(merchant_id=account.merchant_id).first()
    if merchant is None:
        report.error = f"no sandbox merchant {account.merchant_id}"
        return report
    try:
        report.rows = parse_rows(engine.settlement_rows(merchant, day))
    except SettlementFormatError as error:
        report.error = f"unreadable report: {error}"
    return report


def fetch_reports(tenant_id: int | None, day: date) -> list[SettlementReport]:
    """The day's report of every PSP account in scope (one tenant's, or all of them)."""
    from payouts.models import ProviderAccount

    accounts = ProviderAccount.objects.order_by("tenant_id")
    if tenant_id is not None:
        accounts = accounts.filter(tenant_id=tenant_id)
    return [fetch_report(account, day) for account in accounts]


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC day as [start, end) (a settlement date is never after today: it has an end)."""
    return days.start_of(day, UTC), days.end_of(day, UTC)


_DISPUTE_TYPE = (
    "CASE h.to_state " + " ".join(f"WHEN '{s}' THEN '{k}'" for s, k in DISPUTE_TYPE_BY_STATE.items()) + " END"
)
_DISPUTED_STATES = "(" + ", ".join(f"'{state}'" for state in DISPUTE_TYPE_BY_STATE) + ")"
_COMPARE = f"""
    WITH psp AS (
        SELECT * FROM unnest(%(r_tenant)s::bigint[], %(r_type)s::text[], %(r_psp_id)s::text[],
                             %(r_reference)s::text[], %(r_ref)s::uuid[], %(r_amount)s::bigint[],
                             %(r_currency)s::text[], %(r_status)s::text[])
                 AS r(tenant_id, type, psp_id, reference, ref, amount, currency, status)
    )
    -- every row of the reports, with our record of it if there is one (of any day)
    SELECT 'psp', r.tenant_id, r.type, r.psp_id, r.reference, r.amount, r.currency, r.status,
           COALESCE(d.id, w.id), COALESCE(d.amount, w.amount), COALESCE(d.currency, w.currency),
           COALESCE(d.state, CASE WHEN r.type = '{PAYOUT_RETURN}' THEN w.state ELSE a.status END), a.id
    FROM psp r
    LEFT JOIN wallet_deposit d ON r.type IN {DEPOSIT_TYPES!r} AND d.id = r.ref AND d.tenant_id = r.tenant_id
    LEFT JOIN payouts_payoutattempt a
           ON r.type IN ('{PAYOUT}', '{PAYOUT_RETURN}') AND a.id = r.ref AND a.tenant_id = r.tenant_id
    LEFT JOIN wallet_withdrawal w ON w.id = a.withdrawal_id
    UNION ALL
    -- deposits we completed that day that no report lists
    SELECT 'ours', d.tenant_id, '{PAYMENT}', NULL, d.id::text, NULL, NULL, NULL,
           d.id, d.amount, d.currency, d.state, NULL
    FROM wallet_deposit d
    WHERE d.tenant_id = ANY(%(tenants)s) AND d.state IN {_SETTLED_DEPOSITS}
      AND d.completed_at >= %(start)s AND d.completed_at < %(end)s
      AND NOT EXISTS (SELECT 1 FROM psp r WHERE r.type = '{PAYMENT}' AND r.ref = d.id AND r.tenant_id = d.tenant_id)
    UNION ALL
    -- payouts that succeeded here that day that no report lists
    SELECT 'ours', a.tenant_id, '{PAYOUT}', NULL, a.id::text, NULL, NULL, NULL,
           w.id, w.amount, w.currency, a.status, a.id
    FROM payouts_payoutattempt a JOIN wallet_withdrawal w ON w.id = a.withdrawal_id
    WHERE a.tenant_id = ANY(%(tenants)s) AND a.status = 'succeeded'
      AND a.completed_at >= %(start)s AND a.completed_at < %(end)s
      AND NOT EXISTS (SELECT 1 FROM psp r WHERE r.type = '{PAYOUT}' AND r.ref = a.id AND r.tenant_id = a.tenant_id)
    UNION ALL
    -- chargebacks, reversals and second chargebacks we booked that day that no report lists
    SELECT 'ours', d.tenant_id, {_DISPUTE_TYPE}, NULL, d.id::text, NULL, NULL, NULL,
           d.id, d.amount, d.currency, d.state, NULL
    FROM wallet_deposittransition h JOIN wallet_deposit d ON d.id = h.deposit_id
    WHERE h.tenant_id = ANY(%(tenants)s)
      AND h.to_state IN {_DISPUTED_STATES}
      AND h.created_at >= %(start)s AND h.created_at < %(end)s
      AND NOT EXISTS (SELECT 1 FROM psp r WHERE r.ref = d.id AND r.tenant_id = d.tenant_id
                      AND r.type = {_DISPUTE_TYPE})
    UNION ALL
    -- payouts returned here that day that no report lists
    SELECT 'ours', a.tenant_id, '{PAYOUT_RETURN}', NULL, a.id::text, NULL, NULL, NULL,
           w.id, w.amount, w.currency, w.state, a.id
    FROM wallet_withdrawaltransition h JOIN wallet_withdrawal w ON w.id = h.withdrawal_id
    JOIN payouts_payoutattempt a ON a.withdrawal_id = w.id AND a.status = 'succeeded'
    WHERE h.tenant_id = ANY(%(tenants)s) AND h.to_state = '{WithdrawalState.RETURNED}'
      AND h.created_at >= %(start)s AND h.created_at < %(end)s
      AND NOT EXISTS (SELECT 1 FROM psp r WHERE r.type = '{PAYOUT_RETURN}' AND r.ref = a.id
                      AND r.tenant_id = a.tenant_id)
"""


def compare(reports: list[SettlementReport], day: date, scope: Scope) -> list[Found]:
    """Findings for every disagreement between the reports and our books; one SQL statement."""
    found = [
        Found(
            type=FindingType.SETTLEMENT_REPORT_UNAVAILABLE,
            tenant_id=report.tenant_id,
            object_type="settlement_report",
            object_id=day.isoformat(),
            expected="a readable settlement report",
            actual=report.error,
            detail={"source": report.source, "day": day.isoformat()},
        )
        for report in reports
        if report.error
    ]
    readable = [report for report in reports if not report.error]
    if not readable:
        return found
    records = [(report.tenant_id, row) for report in readable for row in report.rows]
    start, end = day_bounds(day)
    params = {
        "r_tenant": [tenant_id for tenant_id, _ in records],
        "r_type": [row.type for _, row in records],
        "r_psp_id": [row.psp_id for _, row in records],
        "r_reference": [row.reference for _, row in records],
        "r_ref": [row.reference_uuid for _, row in records],
        "r_amount": [row.amount for _, row in records],
        "r_currency": [row.currency for _, row in records],
        "r_status": [row.status for _, row in records],
        "tenants": sorted({report.tenant_id for report in readable}),
        "start": start,
        "end": end,
    }
    for record in rows(_COMPARE, params):
        found.extend(_disagreements(day, record))
    return found


def _disagreements(day: date, record: tuple) -> list[Found]:
    """Classify one row of the comparison: ours alone, theirs alone, or both with differences."""
    side, tenant_id, kind, psp_id, reference, amount, currency, status = record[:8]
    tx_id, our_amount, our_currency, our_state, attempt_id = record[8:]
    our_status = STATUS_BY_TYPE[kind].get(our_state, our_state)
    object_type = "deposit" if kind in DEPOSIT_TYPES else "withdrawal"
    detail = {"day": day.isoformat(), "psp_id": psp_id, "reference": reference, "type": kind}
    if attempt_id is not None:
        detail["payout_attempt_id"] = str(attempt_id)
    if side == "ours":
        detail.update(transaction_id=str(tx_id), amount=money(our_amount, our_currency))
        return [
            Found(
                type=FindingType.SETTLEMENT_MISSING_AT_PSP,
                tenant_id=tenant_id,
                object_type=object_type,
                object_id=str(tx_id),
                expected={"psp_status": our_status},
                actual=None,
                detail=detail,
                # a deposit can miss its payment, its chargeback and its reversal: one finding each
                key_suffix=reference if kind in (PAYMENT, PAYOUT) else f"{kind}:{reference}",
            )
        ]
    detail["psp_amount"] = money(amount, currency) if currency in CURRENCY_EXPONENTS else str(amount)
    if tx_id is None:
        return [
            Found(
                type=FindingType.SETTLEMENT_MISSING_IN_PRODUCT,
                tenant_id=tenant_id,
                object_type=f"psp_{kind}",
                object_id=psp_id,
                expected=None,
                actual={"amount": amount, "currency": currency, "status": status},
                detail=detail,
            )
        ]
    detail.update(transaction_id=str(tx_id), amount=money(our_amount, our_currency))
    differences = [
        (FindingType.SETTLEMENT_AMOUNT_MISMATCH, our_amount, amount, amount != our_amount),
        (FindingType.SETTLEMENT_CURRENCY_MISMATCH, our_currency, currency, currency != our_currency),
        (
            FindingType.SETTLEMENT_STATE_MISMATCH,
            {"psp_status": our_status, "state": our_state},
            {"psp_status": status},
            status != our_status,
        ),
    ]
    return [
        Found(
            type=finding_type,
            tenant_id=tenant_id,
            object_type=object_type,
            object_id=str(tx_id),
            expected=expected,
            actual=actual,
            detail=detail,
            key_suffix=f"{kind}:{psp_id}",
        )
        for finding_type, expected, actual, differs in differences
        if differs
    ]
