"""Each game provider's daily report, compared with the game transactions we applied.

A provider account with a `report_url` (games.GameProviderAccount, `{date}` standing for
the UTC day) publishes one CSV per day: every bet, win and rollback the casino answered
200 (docs/sandbox-game.md, columns below), the amount as the decimal string sent.

Like the PSP's settlement report (reconciliation.settlement): the reports are fetched
before the run's snapshot is opened (no network call inside a transaction, a short
timeout), parsed strictly (a report that is not the CSV we expect is not compared at
all), and compared in one SQL statement for every account at once, matching rows by
(provider account, transaction_id): the account names the tenant, so a row is never
matched with another tenant's transaction.

Disagreements:
- game_report_missing_in_product: the provider lists a transaction that we have no
  record of, or that we refused (refused or canceled here);
- game_report_missing_at_provider: we applied a bet, win or rollback that day (moved
  money) that the report does not list;
- game_report_amount_mismatch: both have it, but the amount, currency or kind differ;
- game_report_unavailable: the report could not be fetched or read.
Zero wins and rollbacks of unseen bets are in the report and recorded here without money
(`no_effect`): they match, and are compared like the others.
"""

import csv
import io
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings

from core.money import CURRENCY_EXPONENTS
from games.models import GameProviderAccount, GameTransaction, TransactionKind, TransactionStatus
from reconciliation.checks import Found, Scope, money, rows
from reconciliation.models import FindingType, Severity
from reconciliation.settlement import day_bounds

COLUMNS = [
    "date",
    "provider",
    "transaction_id",
    "round_id",
    "kind",
    "amount",
    "currency",
    "reference_transaction_id",
    "session_token",
    "wallet_transaction_id",
]
REQUIRED = ["date", "provider", "transaction_id", "kind", "amount", "currency"]
KINDS = set(TransactionKind.values)
MAX_BYTES = 64 * 1024 * 1024  # a day of a busy provider is a few MB; more is not a report
SEVERITY = {
    FindingType.GAME_REPORT_MISSING_IN_PRODUCT: Severity.HIGH,
    FindingType.GAME_REPORT_MISSING_AT_PROVIDER: Severity.HIGH,
    FindingType.GAME_REPORT_AMOUNT_MISMATCH: Severity.CRITICAL,
    FindingType.GAME_REPORT_UNAVAILABLE: Severity.MEDIUM,
}
_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,17})(?:\.([0-9]+))?$")
_TX = GameTransaction._meta.db_table


class GameReportFormatError(ValueError):
    """The report is not the CSV we expect; nothing of it is compared."""


@dataclass(frozen=True)
class GameReportRow:
    transaction_id: str
    kind: str
    amount: int
    currency: str


@dataclass
class GameReport:
    """One provider account's report for one day, or why it could not be read (`error`)."""

    account_id: int
    tenant_id: int
    slug: str
    day: date
    source: str
    rows: list[GameReportRow] = field(default_factory=list)
    error: str = ""


def _minor(text: str, currency: str) -> int:
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise ValueError(f"amount {text!r} is not a non-negative decimal")
    places = CURRENCY_EXPONENTS[currency]
    fraction = match.group(2) or ""
    if len(fraction) > places:
        raise ValueError(f"amount {text!r} has more than {places} decimals for {currency}")
    return int(match.group(1)) * 10**places + int(fraction.ljust(places, "0") or "0")


def parse_csv(text: str, *, slug: str, day: date) -> list[GameReportRow]:
    """Every row, validated: the day's and this provider's only, known kinds and currencies, ids once."""
    reader = csv.DictReader(io.StringIO(text), strict=True)
    missing = set(REQUIRED) - set(reader.fieldnames or [])
    if missing:
        raise GameReportFormatError(f"missing columns: {', '.join(sorted(missing))}")
    parsed, seen = [], set()
    try:
        for number, record in enumerate(reader, start=2):  # line 1 is the header
            try:
                if None in record or any(record[name] is None for name in REQUIRED):
                    raise ValueError("wrong number of fields")
                values = {name: record[name].strip() for name in REQUIRED}
                if values["date"] != day.isoformat():
                    raise ValueError(f"date {values['date']!r} is not {day.isoformat()}")
                if values["provider"] != slug:
                    raise ValueError(f"provider {values['provider']!r} is not {slug}")
                transaction_id, kind, currency = values["transaction_id"], values["kind"], values["currency"]
                if not transaction_id or len(transaction_id) > 255:
                    raise ValueError("transaction_id must be 1 to 255 characters")
                if transaction_id in seen:
                    raise ValueError(f"transaction_id {transaction_id!r} is listed twice")
                if kind not in KINDS:
                    raise ValueError(f"kind {kind!r} is not one of {', '.join(sorted(KINDS))}")
                if currency not in CURRENCY_EXPONENTS:
                    raise ValueError(f"unknown currency {currency!r}")
                parsed.append(GameReportRow(transaction_id, kind, _minor(values["amount"], currency), currency))
                seen.add(transaction_id)
            except ValueError as error:
                raise GameReportFormatError(f"line {number}: {error}") from None
    except csv.Error as error:
        raise GameReportFormatError(f"not CSV: {error}") from None
    return parsed


def report_url(account: GameProviderAccount, day: date) -> str:
    return account.report_url.replace("{date}", urllib.parse.quote(day.isoformat()))


def fetch_report(account: GameProviderAccount, day: date) -> GameReport:
    """One account's report over HTTP(S); any failure is the report's `error`, never an exception."""
    url = report_url(account, day)
    report = GameReport(account.pk, account.tenant_id, account.slug, day, source=url)
    if not url.startswith(("http://", "https://")):
        report.error = "the report URL is not http(s)"
        return report
    timeout = getattr(settings, "GAME_REPORT_TIMEOUT_SECONDS", 5.0)
    try:
        request = urllib.request.Request(url, headers={"Accept": "text/csv"})  # noqa: S310 - http(s) only, above
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(MAX_BYTES + 1)
        if len(body) > MAX_BYTES:
            raise GameReportFormatError(f"larger than {MAX_BYTES} bytes")
        report.rows = parse_csv(body.decode("utf-8-sig"), slug=account.slug, day=day)
    except urllib.error.HTTPError as error:
        report.error = f"the provider answered {error.code}"
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        if isinstance(error, GameReportFormatError):
            report.error = f"unreadable report: {error}"
        elif isinstance(error, UnicodeDecodeError):
            report.error = "unreadable report: not UTF-8"
        else:
            report.error = f"the provider could not be reached: {getattr(error, 'reason', error)}"
    return report


def fetch_reports(tenant_id: int | None, day: date) -> list[GameReport]:
    """The day's report of every provider account in scope that has a report URL (active or not)."""
    accounts = GameProviderAccount.objects.exclude(report_url="").order_by("tenant_id", "slug")
    if tenant_id is not None:
        accounts = accounts.filter(tenant_id=tenant_id)
    return [fetch_report(account, day) for account in accounts]


_COMPARE = f"""
    WITH report AS (
        SELECT * FROM unnest(%(r_account)s::bigint[], %(r_tx)s::text[], %(r_kind)s::text[],
                             %(r_amount)s::bigint[], %(r_currency)s::text[])
                 AS r(account_id, transaction_id, kind, amount, currency)
    )
    -- every row of the reports, with our transaction of the same account if there is one (of any day)
    SELECT 'report', r.account_id, r.transaction_id, r.kind, r.amount, r.currency,
           t.id, t.tenant_id, t.kind, t.amount, t.currency, t.status
    FROM report r
    LEFT JOIN {_TX} t ON t.account_id = r.account_id AND t.transaction_id = r.transaction_id
    UNION ALL
    -- transactions that moved money that day, of the accounts whose report was read, that it does not list
    SELECT 'ours', t.account_id, t.transaction_id, NULL, NULL, NULL,
           t.id, t.tenant_id, t.kind, t.amount, t.currency, t.status
    FROM {_TX} t
    WHERE t.tenant_id = ANY(%(tenants)s) AND t.account_id = ANY(%(accounts)s)
      AND t.created_at >= %(start)s AND t.created_at < %(end)s AND t.status = '{TransactionStatus.APPLIED}'
      AND NOT EXISTS (SELECT 1 FROM report r WHERE r.account_id = t.account_id AND r.transaction_id = t.transaction_id)
"""
_RECORDED = (TransactionStatus.APPLIED, TransactionStatus.NO_EFFECT)


def compare(reports: list[GameReport], day: date, scope: Scope) -> list[Found]:
    """Findings for every disagreement between the reports and our game transactions; one SQL statement."""
    found = [
        Found(
            type=FindingType.GAME_REPORT_UNAVAILABLE,
            tenant_id=report.tenant_id,
            object_type="game_report",
            object_id=day.isoformat(),
            expected="a readable game provider report",
            actual=report.error,
            detail={"source": report.source, "day": day.isoformat(), "provider": report.slug},
            key_suffix=report.slug,
        )
        for report in reports
        if report.error
    ]
    readable = [report for report in reports if not report.error]
    if not readable:
        return found
    records = [(report, row) for report in readable for row in report.rows]
    start, end = day_bounds(day)
    params = {
        "r_account": [report.account_id for report, _ in records],
        "r_tx": [row.transaction_id for _, row in records],
        "r_kind": [row.kind for _, row in records],
        "r_amount": [row.amount for _, row in records],
        "r_currency": [row.currency for _, row in records],
        "tenants": sorted({report.tenant_id for report in readable}),
        "accounts": sorted({report.account_id for report in readable}),
        "start": start,
        "end": end,
    }
    accounts = {report.account_id: report for report in readable}
    for record in rows(_COMPARE, params):
        finding = _disagreement(accounts[record[1]], day, record)
        if finding is not None:
            found.append(finding)
    return found


def _disagreement(report: GameReport, day: date, record: tuple) -> Found | None:
    side, _, transaction_id, kind, amount, currency = record[:6]
    pk, our_tenant, our_kind, our_amount, our_currency, status = record[6:]
    detail = {"day": day.isoformat(), "provider": report.slug, "transaction_id": transaction_id}
    if side == "ours":
        return Found(
            type=FindingType.GAME_REPORT_MISSING_AT_PROVIDER,
            tenant_id=our_tenant,
            object_type="gametransaction",
            object_id=str(pk),
            expected={"kind": our_kind, "amount": our_amount, "currency": our_currency},
            actual=None,
            detail={**detail, "amount": money(our_amount, our_currency)},
        )
    theirs = {"kind": kind, "amount": amount, "currency": currency}
    detail["provider_amount"] = money(amount, currency)
    if pk is None or status not in _RECORDED:
        return Found(
            type=FindingType.GAME_REPORT_MISSING_IN_PRODUCT,
            tenant_id=report.tenant_id,
            object_type="game_report_row",
            object_id=transaction_id[:64],
            expected=None if pk is None else {"status": status},
            actual=theirs,
            detail={**detail, "our_transaction": None if pk is None else str(pk), "status": status},
            key_suffix=report.slug,
        )
    ours = {"kind": our_kind, "amount": our_amount, "currency": our_currency}
    if ours == theirs:
        return None
    return Found(
        type=FindingType.GAME_REPORT_AMOUNT_MISMATCH,
        tenant_id=our_tenant,
        object_type="gametransaction",
        object_id=str(pk),
        expected=ours,
        actual=theirs,
        detail={**detail, "amount": money(our_amount, our_currency), "status": status},
    )


def check(reports: list[GameReport], day: date):
    """The run's check over the fetched reports (named `game_report` in the run's stats)."""

    def game_report(scope: Scope) -> list[Found]:
        return compare(reports, day, scope)

    return game_report
