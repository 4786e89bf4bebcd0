"""The game wallet's answers as exact text: what is stored with a game transaction is what a replay sends.

Bodies are compact JSON (as the API's renderer writes it), so the first answer and every
replay of it are the same bytes.
"""

import json
from dataclasses import dataclass

from core.actors import Actor, ActorType
from core.api.problems import PROBLEM_CONTENT_TYPE, problem_body
from core.errors import DomainError
from core.money import format_amount

JSON = "application/json"


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    replayed: bool = False

    @property
    def content_type(self) -> str:
        return JSON if self.status < 400 else PROBLEM_CONTENT_TYPE


def dumps(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def ok(balance: int, currency: str, transaction_id: str | None, wallet_transaction_id) -> str:
    """200: the available balance after the call, and which of our rows recorded it."""
    return dumps(
        {
            "balance": format_amount(balance, currency),
            "currency": currency,
            "transaction_id": transaction_id,
            "wallet_transaction_id": str(wallet_transaction_id) if wallet_transaction_id else None,
        }
    )


def problem(error: DomainError) -> str:
    return dumps(problem_body(error.error_code, error.detail, status=error.status, **error.problem_fields()))


def provider_actor(slug: str) -> Actor:
    """A game provider acts as an outside provider (actor type psp), named `game:<slug>`."""
    return Actor(ActorType.PSP, None, f"game:{slug}")
