"""Reading refusal aggregates in tests: flush every tally as the beat task would once its minute closed."""

from datetime import timedelta

from django.utils import timezone

from core import refusals
from core.models import AuditEvent, RefusalTally


def flush_every_minute() -> int:
    """Flush all tallies, as if their minutes had closed long ago; returns how many events were written."""
    return refusals.flush_closed(now=timezone.now() + timedelta(minutes=10))


def aggregates(action: str) -> list[AuditEvent]:
    """Flush, then the aggregate audit events of `action`, oldest first."""
    flush_every_minute()
    assert not RefusalTally.objects.exists()
    return list(AuditEvent.objects.filter(action=action).order_by("id"))
