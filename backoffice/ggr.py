"""The GGR report as operators ask for it: a range of days checked, the rows, the CSV export.

Shared by the operator API (`GET admin/reports/ggr/`) and the console page, so both refuse
the same ranges with the same VALIDATION_ERROR and export the same CSV.
"""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date

from core.errors import ValidationFailed
from core.money import format_amount
from games.reports import GgrDay, ggr_by_day

MAX_DAYS = 366
CSV_COLUMNS = [
    "date",
    "currency",
    "bets",
    "wins",
    "rolled_back",
    "ggr",
    "bet_count",
    "win_count",
    "rollback_count",
]


@dataclass(frozen=True)
class DayRange:
    first: date
    last: date


def parse_range(params) -> DayRange:
    """`from` and `to` (YYYY-MM-DD, both included): missing, malformed, reversed or longer than
    MAX_DAYS is ValidationFailed naming the field."""
    days = {}
    for name in ("from", "to"):
        text = (params.get(name) or "").strip()
        try:
            days[name] = date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            days[name] = None
        if days[name] is None:
            raise ValidationFailed(f"{name} must be a date, YYYY-MM-DD.", errors={name: ["Not a date."]})
    if days["to"] < days["from"]:
        raise ValidationFailed("to must not be before from.", errors={"to": ["Before from."]})
    if (days["to"] - days["from"]).days + 1 > MAX_DAYS:
        raise ValidationFailed(
            f"The range may cover at most {MAX_DAYS} days.", errors={"to": [f"More than {MAX_DAYS} days."]}
        )
    return DayRange(days["from"], days["to"])


def ggr_report(operator, days: DayRange) -> list[GgrDay]:
    """The operator's casino's GGR, days in its time zone; every casino's in UTC for platform staff."""
    tenant = operator.tenant
    zone = tenant.zone if tenant is not None else UTC
    return ggr_by_day(tenant.pk if tenant is not None else None, zone, days.first, days.last)


def as_row(day: GgrDay) -> dict:
    """One day and currency with amounts as decimal strings (the API's and the CSV's)."""

    def amount(minor: int) -> str:
        return format_amount(minor, day.currency)

    return {
        "date": day.day.isoformat(),
        "currency": day.currency,
        "bets": amount(day.bets),
        "wins": amount(day.wins),
        "rolled_back": amount(day.rolled_back),
        "ggr": amount(day.ggr),
        "bet_count": day.bet_count,
        "win_count": day.win_count,
        "rollback_count": day.rollback_count,
    }


def as_csv(rows: list[GgrDay]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for day in rows:
        writer.writerow(as_row(day))
    return out.getvalue()
