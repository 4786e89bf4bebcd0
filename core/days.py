"""Calendar days as time ranges: the filters' "from day … until day" in a time zone.

A day's range ends where the next day starts, and the last date there is (9999-12-31) has no
next day: its range stays open at the end instead of overflowing (an operator's "until
9999-12-31" means "no end"), so such a filter reads as no limit rather than failing.
"""

from datetime import date, datetime, time, timedelta, tzinfo


def start_of(day: date | None, zone: tzinfo) -> datetime | None:
    """The first moment of `day` in `zone`; None for no day."""
    return datetime.combine(day, time.min, tzinfo=zone) if day else None


def end_of(day: date | None, zone: tzinfo) -> datetime | None:
    """The first moment after `day` in `zone` (the next day's start); None for no day or the last date."""
    if day is None or day == date.max:
        return None
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
