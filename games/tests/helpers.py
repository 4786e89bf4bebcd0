"""Calling the game wallet as a provider would: signed requests, and counting what moved."""

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection

from wallet.models import JournalEntry, Posting, Wallet


def signed_headers(secret: str, body: bytes, *, at: datetime | None = None, msg_id: str | None = None) -> dict:
    """Standard Webhooks headers for `body`, as Django's test client takes them."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(int(at.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": sign(secret, msg_id, int(at.timestamp()), body),
    }


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` and the base64 HMAC-SHA256 of "id.timestamp.body" under the secret's key (docs/game-wallet.md)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass
class ProviderClient:
    """A game provider's server: the account's slug and one of its secrets."""

    client: object
    slug: str
    secret: str

    def post(self, kind: str, body, *, secret: str | None = None, headers: dict | None = None, at=None, slug=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        signed = {} if headers is not None else signed_headers(secret or self.secret, raw, at=at)
        return self.client.post(
            f"/api/v1/games/{slug or self.slug}/{kind}/",
            data=raw,
            content_type="application/json",
            **signed,
            **(headers or {}),
        )

    def balance(self, token: str, *, secret: str | None = None, **extra):
        return self.post("balance", {"session_token": token, **extra}, secret=secret)

    def bet(self, token: str, tx: str, round_id: str = "r-1", amount: str = "10.00", currency: str = "EUR", **kw):
        """Extra keywords go into the body, but `secret` signs it."""
        body = {"session_token": token, "transaction_id": tx, "round_id": round_id, "amount": amount}
        secret = kw.pop("secret", None)
        return self.post("bet", {**body, "currency": currency, **kw}, secret=secret)

    def win(self, token: str, tx: str, round_id: str = "r-1", amount: str = "5.00", currency: str = "EUR", **kw):
        body = {"session_token": token, "transaction_id": tx, "round_id": round_id, "amount": amount}
        secret = kw.pop("secret", None)
        return self.post("win", {**body, "currency": currency, **kw}, secret=secret)

    def rollback(self, token: str, tx: str, ref: str, amount: str = "10.00", currency: str = "EUR", **kw):
        body = {"session_token": token, "transaction_id": tx, "reference_transaction_id": ref, "amount": amount}
        secret = kw.pop("secret", None)
        return self.post("rollback", {**body, "currency": currency, **kw}, secret=secret)


@dataclass(frozen=True)
class Books:
    """What a refusal must leave as it was: balances, ledger rows, game rows."""

    available: int
    entries: int
    postings: int
    game_transactions: int
    rounds: int


def books(wallet: Wallet) -> Books:
    wallet.refresh_from_db()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM games_gametransaction")
        (game_transactions,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM games_gameround")
        (rounds,) = cursor.fetchone()
    return Books(
        available=wallet.balance_available,
        entries=JournalEntry.objects.count(),
        postings=Posting.objects.count(),
        game_transactions=game_transactions,
        rounds=rounds,
    )


def money_books(wallet: Wallet) -> tuple[int, int, int]:
    """Balance and ledger rows only (a refused bet is still recorded as a game transaction)."""
    wallet.refresh_from_db()
    return wallet.balance_available, JournalEntry.objects.count(), Posting.objects.count()


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body["error_code"] == code, body
    return body


def house_balance(tenant_id: int, currency: str = "EUR") -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(p.amount), 0) FROM wallet_posting p JOIN wallet_journalentry e ON e.id = p.entry_id "
            "WHERE p.account = 'game_house' AND e.tenant_id = %s AND e.currency = %s",
            [tenant_id, currency],
        )
        return cursor.fetchone()[0]
