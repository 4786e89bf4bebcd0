"""The refusal tally (core/refusals.py): one UPSERT per refusal while the minute is open, then exactly
one audit event per action, address and minute, written when the minute has closed."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from core import refusals
from core.actors import Actor
from core.models import AuditEvent, RefusalTally

pytestmark = pytest.mark.django_db

ACTION = "test.refused"


def refuse(source="192.0.2.1", *, tenant_id=None, n=0):
    refusal = refusals.count(ACTION, source)
    assert not refusal.past_limit
    refusals.tally(refusal, tenant_id=tenant_id, actor=Actor.system("test"), reason=f"refusal {n}", details={"n": n})
    return refusal


def events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=ACTION).order_by("id"))


def test_refusals_of_one_minute_are_one_row_keeping_the_first_details(refusal_clock):
    for n in range(5):
        refusal_clock.advance(1)
        refuse(n=n)
    row = RefusalTally.objects.get()
    assert (row.count, row.reason, row.details) == (5, "refusal 0", {"n": 0})
    assert row.last_at - row.first_at == timedelta(seconds=4)


def test_a_minute_is_flushed_only_once_closed_and_a_grace_later(refusal_clock):
    # given two refusals at 10 s into a minute
    refuse(n=0)
    refuse(n=1)
    minute = refusal_clock.now.replace(second=0)
    # when flushing within the minute, or within the grace after it, then nothing is written
    assert refusals.flush_closed(now=minute + timedelta(seconds=59)) == 0
    assert refusals.flush_closed(now=minute + timedelta(seconds=60) + refusals.GRACE / 2) == 0
    assert events() == [] and RefusalTally.objects.count() == 1
    # when flushing after the grace, then it is one event with the count, and the row is gone
    assert refusals.flush_closed(now=minute + timedelta(seconds=60) + refusals.GRACE) == 1
    (event,) = events()
    assert (event.data["count"], event.data["refused"], event.data["throttled"]) == (2, 2, 0)
    assert event.data["minute"] == minute.isoformat() and event.data["first"] == {"n": 0, "reason": "refusal 0"}
    assert not RefusalTally.objects.exists()
    # and flushing again writes nothing more
    assert refusals.flush_closed(now=minute + timedelta(minutes=5)) == 0
    assert len(events()) == 1


def test_the_first_refusal_of_a_new_minute_flushes_the_closed_ones(refusal_clock):
    # given refusals in one minute
    refuse(n=0)
    refuse(n=1)
    # when the next minute's first refusal arrives (after the grace), then the closed minute is audited
    refusal_clock.advance(60)
    refuse(n=2)
    (event,) = events()
    assert event.data["count"] == 2
    # and the new minute's refusal waits in its own row
    assert RefusalTally.objects.get().count == 1


def test_the_beat_task_flushes_every_minute(refusal_clock):
    assert settings.CELERY_BEAT_SCHEDULE["flush-refusal-tallies"] == {
        "task": "core.flush_refusal_tallies",
        "schedule": 60,
    }
    refuse(n=0)
    refusal_clock.advance(120)
    assert celery_app.tasks["core.flush_refusal_tallies"].apply().get() == 1
    assert len(events()) == 1


def test_refusals_naming_several_tenants_are_a_platform_event_that_lists_them(refusal_clock):
    refuse(tenant_id=7, n=0)
    refuse(tenant_id=7, n=1)
    refuse(tenant_id=9, n=2)
    refuse(tenant_id=None, n=3)
    refusal_clock.advance(120)
    refusals.flush_closed()
    (event,) = events()
    assert event.tenant_id is None and event.data["tenant_ids"] == [7, 9]


def test_refusals_naming_one_tenant_are_that_tenants_event(refusal_clock):
    refuse(tenant_id=7, n=0)
    refuse(tenant_id=7, n=1)
    refusal_clock.advance(120)
    refusals.flush_closed()
    (event,) = events()
    assert event.tenant_id == 7 and "tenant_ids" not in event.data


def test_an_address_that_is_no_ip_is_kept_in_the_data_but_not_in_the_ip_column(refusal_clock):
    refuse(source=None)
    refusal_clock.advance(120)
    refusals.flush_closed()
    (event,) = events()
    assert event.ip is None and event.data["source"] == refusals.UNKNOWN_SOURCE


@pytest.mark.django_db(transaction=True)
def test_flushers_side_by_side_write_each_row_once(refusal_clock):
    # given 40 closed minutes of tallies (40 rows)
    for n in range(40):
        refuse(source=f"192.0.2.{n + 1}", n=n)
    refusal_clock.advance(120)
    # when four flushers run at once, in small batches
    start, written, errors = threading.Barrier(4), [], []

    def flush():
        try:
            start.wait()
            written.append(refusals.flush_closed(batch=3))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=flush) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then every row became exactly one event
    assert errors == [] and sum(written) == 40
    assert sorted(e.data["source"] for e in events()) == sorted(f"192.0.2.{n + 1}" for n in range(40))
    assert not RefusalTally.objects.exists()


def test_past_the_limit_a_refusal_says_so_and_the_throttle_answers_until_the_minute_ends(refusal_clock):
    for n in range(settings.REFUSALS_PER_MINUTE):
        refuse(n=n)
    assert refusals.throttled(ACTION, "192.0.2.1") == 50  # seconds left in the minute
    assert refusals.count(ACTION, "192.0.2.1").past_limit
    assert refusals.throttled(ACTION, "192.0.2.2") is None
    refusal_clock.advance(50)
    assert refusals.throttled(ACTION, "192.0.2.1") is None
