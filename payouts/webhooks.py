"""Receiving PSP webhooks: verify, store raw, deduplicate, apply through the services.

Rules (docs/psp-integration.md):
- The signature is checked on the raw body before anything else; a refusal is
  audited in its own transaction and changes nothing.
- The event row is inserted with ON CONFLICT DO NOTHING before any other row is
  touched: a redelivered `webhook-id` is acknowledged without taking a single lock.
- Storing and applying happen in one transaction, so an event is recorded exactly
  when its effect is (a crash rolls back both and the PSP delivers again).
- Outcomes never move backwards: a late or contradicting event is stored with its
  outcome (stale, conflict) and acknowledged, so the PSP stops redelivering it.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction

from core.actors import Actor
from core.audit import record_event, record_in_own_transaction
from core.errors import DomainError
from core.unit_of_work import UnitOfWork
from payouts import dispatch
from payouts.models import ProviderAccount, WebhookEvent
from payouts.providers import InvalidWebhook, WebhookMessage, accounts_for, provider_for
from wallet import services
from wallet.errors import IllegalTransactionStateTransition, PayoutOutcomeConflict
from wallet.models import Deposit, DepositState, PayoutAttempt
from wallet.services import complete_deposit, fail_deposit, mark_deposit_pending
from wallet.services.common import lock_deposit, lock_withdrawal

log = logging.getLogger(__name__)

Outcome = WebhookEvent.Outcome


class WebhookRefused(Exception):
    """Signature missing, wrong or stale: 401 WEBHOOK_SIGNATURE_INVALID."""


@dataclass(frozen=True)
class Receipt:
    duplicate: bool
    outcome: str
    detail: str = ""


def receive(provider_name: str, *, headers: dict, body: bytes) -> Receipt:
    """Verify, store and apply one webhook delivery. Raises WebhookRefused or LookupError."""
    accounts = accounts_for(provider_name)  # LookupError for a provider we do not use
    message, account = _verify(provider_name, accounts, headers, body)
    with transaction.atomic():
        event = _store(provider_name, account, message)
        if event is None:
            return Receipt(duplicate=True, outcome="duplicate")
        outcome, detail = _apply(event, message, Actor.psp(provider_name))
        event.outcome, event.outcome_detail = outcome, detail
        event.save(update_fields=["outcome", "outcome_detail", "deposit", "payout_attempt"])
        uow = UnitOfWork()
        record_event(
            tenant=account.tenant_id,
            actor=Actor.psp(provider_name),
            action="webhook.accepted",
            target=event,
            after=outcome,
            reason=detail,
            data={"event_id": message.event_id, "type": message.event_type},
            uow=uow,
        )
        uow.flush()
    return Receipt(duplicate=False, outcome=outcome, detail=detail)


def _verify(provider_name, accounts, headers, body) -> tuple[WebhookMessage, ProviderAccount]:
    reason = "No account at this provider"
    named = {str(name).lower(): value for name, value in headers.items()}  # HTTP header names ignore case
    for account in accounts:
        try:
            return provider_for(account).verify_webhook(headers=headers, body=body), account
        except InvalidWebhook as error:
            reason = str(error)
    record_in_own_transaction(
        tenant=accounts[0].tenant_id if len(accounts) == 1 else None,
        actor=Actor.psp(provider_name),
        action="webhook.refused",
        reason=reason,
        data={
            "provider": provider_name,
            "webhook_id": str(named.get("webhook-id", ""))[:200],
            "webhook_timestamp": str(named.get("webhook-timestamp", ""))[:40],
            "body_bytes": len(body),
        },
    )
    raise WebhookRefused(reason)


def _store(provider_name: str, account: ProviderAccount, message: WebhookMessage) -> WebhookEvent | None:
    """Insert the raw event unless its id was seen before; None means a duplicate."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO payouts_webhookevent (provider, event_id, tenant_id, event_type, payload, signed_at, "
            "received_at, outcome, outcome_detail) VALUES (%s, %s, %s, %s, %s, %s, now(), '', '') "
            "ON CONFLICT (provider, event_id) DO NOTHING RETURNING id",
            [
                provider_name,
                message.event_id[:200],
                account.tenant_id,
                message.event_type[:64],
                message.raw,
                datetime.fromtimestamp(message.signed_at, tz=UTC),
            ],
        )
        row = cursor.fetchone()
    return None if row is None else WebhookEvent.objects.get(pk=row[0])


def _apply(event: WebhookEvent, message: WebhookMessage, actor: Actor) -> tuple[str, str]:
    handler = {
        "payment.succeeded": _payment_succeeded,
        "payment.failed": _payment_failed,
        "payout.succeeded": _payout_succeeded,
        "payout.failed": _payout_failed,
    }.get(message.event_type)
    if handler is None:
        return Outcome.UNSUPPORTED, f"Event type {message.event_type!r} is not handled"
    return handler(event, message.data, actor)


def _deposit_for(event: WebhookEvent, data: dict) -> Deposit | None:
    try:
        deposit_id = uuid.UUID(str(data.get("reference", "")))
    except ValueError:
        return None
    deposit = Deposit.objects.filter(pk=deposit_id, tenant_id=event.tenant_id).first()
    if deposit is not None:
        # Decide on the locked row: a twin event (another webhook-id, same news) may have just applied it.
        deposit = lock_deposit(deposit)
    event.deposit = deposit
    return deposit


def _mismatch(tx, data: dict) -> str:
    if data.get("amount") != tx.amount or data.get("currency") != tx.currency:
        return (
            f"PSP reported {data.get('amount')} {data.get('currency')}; "
            f"we expected {tx.amount} {tx.currency} (minor units)"
        )
    return ""


def _payment_succeeded(event, data, actor) -> tuple[str, str]:
    deposit = _deposit_for(event, data)
    if deposit is None:
        return Outcome.UNKNOWN_OBJECT, f"No deposit {data.get('reference')!r} for this tenant"
    if problem := _mismatch(deposit, data):
        return Outcome.MISMATCH, problem
    if deposit.state == DepositState.COMPLETED:
        return Outcome.NO_CHANGE, "Deposit already completed"
    if deposit.state == DepositState.FAILED:
        # Money arrived for a deposit we closed: never lost, never silently credited.
        return Outcome.CONFLICT, "Payment succeeded at the PSP after the deposit was closed as failed"
    if deposit.state == DepositState.CREATED:  # the webhook overtook our own bookkeeping
        mark_deposit_pending(deposit, actor=actor, provider_reference=str(data.get("payment_id", "")))
    complete_deposit(deposit, actor=actor, reason=f"PSP event {event.event_id}")
    return Outcome.APPLIED, "Deposit completed"


def _payment_failed(event, data, actor) -> tuple[str, str]:
    deposit = _deposit_for(event, data)
    if deposit is None:
        return Outcome.UNKNOWN_OBJECT, f"No deposit {data.get('reference')!r} for this tenant"
    if problem := _mismatch(deposit, data):
        return Outcome.MISMATCH, problem
    if deposit.state == DepositState.FAILED:
        return Outcome.NO_CHANGE, "Deposit already failed"
    if deposit.state == DepositState.COMPLETED:
        return Outcome.STALE, "A failure after completion is not applied"
    if deposit.state == DepositState.CREATED:
        mark_deposit_pending(deposit, actor=actor, provider_reference=str(data.get("payment_id", "")))
    fail_deposit(deposit, actor=actor, reason=str(data.get("reason") or "Payment failed at the PSP"))
    return Outcome.APPLIED, "Deposit failed"


def _attempt_for(event: WebhookEvent, data: dict) -> PayoutAttempt | None:
    try:
        attempt_id = uuid.UUID(str(data.get("idempotency_key", "")))
    except ValueError:
        return None
    attempt = PayoutAttempt.objects.filter(pk=attempt_id, tenant_id=event.tenant_id).first()
    if attempt is not None:
        # Lock order: the withdrawal, then read the attempt its services change only under that lock.
        lock_withdrawal(attempt.withdrawal_id)
        attempt = PayoutAttempt.objects.select_related("withdrawal").get(pk=attempt.pk)
    event.payout_attempt = attempt
    return attempt


def _payout_succeeded(event, data, actor) -> tuple[str, str]:
    attempt = _attempt_for(event, data)
    if attempt is None:
        return Outcome.UNKNOWN_OBJECT, f"No payout attempt {data.get('idempotency_key')!r} for this tenant"
    if problem := _mismatch(attempt.withdrawal, data):
        return Outcome.MISMATCH, problem
    if attempt.status == PayoutAttempt.Status.SUCCEEDED:
        return Outcome.NO_CHANGE, "Payout already recorded as paid"
    try:
        services.record_payout_succeeded(attempt, actor=actor, provider_reference=str(data.get("payout_id", "")))
    except (PayoutOutcomeConflict, IllegalTransactionStateTransition) as refusal:
        return Outcome.CONFLICT, refusal.detail
    return Outcome.APPLIED, "Withdrawal paid"


def _payout_failed(event, data, actor) -> tuple[str, str]:
    attempt = _attempt_for(event, data)
    if attempt is None:
        return Outcome.UNKNOWN_OBJECT, f"No payout attempt {data.get('idempotency_key')!r} for this tenant"
    if problem := _mismatch(attempt.withdrawal, data):
        return Outcome.MISMATCH, problem
    if attempt.status == PayoutAttempt.Status.FAILED:
        return Outcome.NO_CHANGE, "Payout already recorded as failed"
    if attempt.status == PayoutAttempt.Status.SUCCEEDED:
        return Outcome.STALE, "A failure after success is not applied"
    try:
        services.record_payout_failed(
            attempt,
            actor=actor,
            reason=str(data.get("reason") or "Payout failed at the PSP"),
            provider_reference=str(data.get("payout_id", "")),
        )
    except DomainError as refusal:
        return Outcome.CONFLICT, refusal.detail
    dispatch.schedule_automatic_retry(attempt.withdrawal_id)
    return Outcome.APPLIED, "Payout failed; money stays held"
