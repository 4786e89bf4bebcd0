"""The provider's daily report: the calls the casino answered 200 on that UTC day, as CSV."""

import csv
import io
import json
from datetime import UTC, date, datetime

from games.sandbox import report
from games.sandbox.store import Call, Store, iso
from games.sandbox.web import SandboxGameApp

from .test_web import call_app

DAY = date(2026, 3, 14)


def add(
    store: Store,
    tx: str,
    kind: str,
    amount: int,
    *,
    status="ok",
    answered: str | None = "2026-03-14T10:00:00",
    provider="sandbox-test",
    currency="EUR",
    reference=None,
):
    store.add_call(
        Call(
            transaction_id=tx,
            provider=provider,
            kind=kind,
            round_id=f"rnd_{tx}",
            session_token="gs_abcdefgh",
            amount=amount,
            currency=currency,
            reference_transaction_id=reference,
            message_id=tx,
            body=json.dumps({"transaction_id": tx}),
            status=status,
            attempts=1,
            http_status=200,
            error_code=None,
            balance="1.00",
            wallet_transaction_id=f"w-{tx}",
            created_at=iso(datetime.now(tz=UTC)),
            answered_at=iso(datetime.fromisoformat(answered).replace(tzinfo=UTC)) if answered else None,
            next_attempt_at=iso(datetime.now(tz=UTC)),
        )
    )


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_report_lists_the_days_accepted_calls_only(tmp_path):
    store = Store(tmp_path / "game.sqlite3")
    # given calls answered 200 that day, the day before and after, refused, unanswered and unresolved ones
    add(store, "bet_1", "bet", 1_00)
    add(store, "win_1", "win", 2_50, answered="2026-03-14T23:59:59.999999")
    add(store, "win_0", "win", 0)
    add(store, "rollback_1", "rollback", 5_00, reference="bet_9")
    add(store, "jpy_1", "bet", 500, currency="JPY")
    add(store, "bet_before", "bet", 1_00, answered="2026-03-13T23:59:59")
    add(store, "bet_after", "bet", 1_00, answered="2026-03-15T00:00:00")
    add(store, "bet_refused", "bet", 1_00, status="refused")
    add(store, "win_pending", "win", 1_00, status="pending", answered=None)
    add(store, "bet_9", "bet", 5_00, status="unresolved", answered=None)
    add(store, "bet_other", "bet", 1_00, provider="sandbox-other")
    # when the report of the day is made
    found = rows(report.daily_csv(store, DAY))
    # then it has the accepted calls of that day, in the casino's decimal amounts
    assert list(found[0]) == report.COLUMNS
    assert {r["transaction_id"]: (r["kind"], r["amount"], r["currency"]) for r in found} == {
        "bet_1": ("bet", "1.00", "EUR"),
        "win_1": ("win", "2.50", "EUR"),
        "win_0": ("win", "0.00", "EUR"),
        "rollback_1": ("rollback", "5.00", "EUR"),
        "jpy_1": ("bet", "500", "JPY"),
        "bet_other": ("bet", "1.00", "EUR"),
    }
    rollback = next(r for r in found if r["kind"] == "rollback")
    assert (
        rollback["date"],
        rollback["round_id"],
        rollback["reference_transaction_id"],
        rollback["session_token"],
    ) == (
        "2026-03-14",
        "rnd_rollback_1",
        "bet_9",
        "gs_abcdefgh",
    )
    # and one casino's report has only its provider account's calls
    assert [r["transaction_id"] for r in rows(report.daily_csv(store, DAY, "sandbox-other"))] == ["bet_other"]


def test_the_report_over_http(tmp_path, game):
    add(game.store, "bet_1", "bet", 1_00)
    app = SandboxGameApp(game)
    status, headers, body = call_app(app, "GET", "/reports/daily.csv?date=2026-03-14")
    assert status == "200 OK" and headers["Content-Type"].startswith("text/csv")
    assert 'filename="sandbox-game-2026-03-14.csv"' in headers["Content-Disposition"]
    assert [r["transaction_id"] for r in rows(body.decode())] == ["bet_1"]
    assert rows(call_app(app, "GET", "/reports/daily.csv?date=2026-03-15")[2].decode()) == []
    assert call_app(app, "GET", "/reports/daily.csv?date=yesterday")[0] == "400 Bad Request"
