"""The provider's daily report: every money call the casino answered 200, as CSV.

One row per game transaction the game sent and the casino accepted (bets, wins,
rollbacks; zero wins that closed a losing round included), dated by the UTC day on which
the 200 answer arrived. Refused calls (4xx), calls never answered, and bets the game
rolled back because they went unanswered are not in it (their rollback is). This is
what the casino's reconciliation compares with its own game transactions
(docs/sandbox-game.md).
"""

import csv
import io
from datetime import date

from . import money
from .store import Store

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


def daily_rows(store: Store, day: date, provider: str | None = None) -> list[dict]:
    return [
        {
            "date": day.isoformat(),
            "provider": call.provider,
            "transaction_id": call.transaction_id,
            "round_id": call.round_id,
            "kind": call.kind,
            "amount": money.to_text(call.amount, call.currency),
            "currency": call.currency,
            "reference_transaction_id": call.reference_transaction_id or "",
            "session_token": call.session_token,
            "wallet_transaction_id": call.wallet_transaction_id or "",
        }
        for call in store.answered_on(day, provider)
    ]


def daily_csv(store: Store, day: date, provider: str | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(daily_rows(store, day, provider))
    return out.getvalue()
