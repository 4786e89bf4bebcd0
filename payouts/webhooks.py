"""Receiving PSP webhooks: verify, store raw, deduplicate, apply through the services.

Rules (docs/psp-integration.md):
- A `webhook-id` longer than 255 characters (or with control characters) is refused
  400 before any work; one from an address past its refusal limit is refused 429 from
  Redis alone (core/refusals.py), before any signature work.
- The signature is checked on the raw body before anything else. A refusal changes
  nothing and is audited in aggregate: one event per address and minute, whatever the
  flood. A body that is signed but not a JSON object is refused 400 with the reason
  and audited (its sender is known).
- The event row is inserted with ON CONFLICT DO NOTHING before any other row is
  touched: a redelivered `webhook-id` of the same account is acknowledged without
  taking a single lock. Ids are whole and per account: two accounts never
  deduplicate each other's events.
- Storing and applying happen in one transaction, so an event is recorded exactly
  when its effect is (a crash rolls back both and the PSP delivers again).
- Outcomes never move backwards: a late or contradicting event is stored with its
  outcome (stale, conflict) and acknowledged, so the PSP stops redelivering it.
"""

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction

from core import refusals
from core.actors import Actor
from core.audit import record_event, record_in_own_transaction
from core.errors import DomainError
from core.unit_of_work import UnitOfWork
from payouts import dispatch
from payouts.models import ProviderAccount, WebhookEvent
from payouts.providers import InvalidWebhook, MalformedWebhook, WebhookMessage, accounts_for, provider_for
from wallet import services
from wallet.errors import IllegalTransactionStateTransition, PayoutOutcomeConflict
from wallet.methods import InvalidMethod, MethodDetails
from wallet.models import Deposit, DepositState, PayoutAttempt, WithdrawalState
from wallet.services import complete_deposit, fail_deposit, mark_deposit_pending
from wallet.services.common import lock_deposit, lock_withdrawal

log = logging.getLogger(__name__)

Outcome = WebhookEvent.Outcome
REFUSED = "webhook.refused"  # the audit action of refused signatures, and their rate limit's name
MAX_EVENT_ID_LENGTH = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_PROVIDER_REFERENCE = 128  # the provider_reference columns of deposits and payout attempts


class WebhookRefused(Exception):
    """Signature missing, wrong or stale: 401 WEBHOOK_SIGNATURE_INVALID."""


class WebhookThrottled(Exception):
    """Too many refusals from this address this minute: 429 RATE_LIMITED, nothing else done."""

    def __init__(self, retry_after: int):
        super().__init__(f"Too many refused webhooks from this address; retry in {retry_after} s.")
        self.retry_after = retry_after


class WebhookInvalid(Exception):
    """A header or a signed body we cannot take: 400 VALIDATION_ERROR naming `field`."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field, self.reason = field, reason


@dataclass(frozen=True)
class Receipt:
    duplicate: bool
    outcome: str
    detail: str = ""


def receive(provider_name: str, *, headers: dict, body: bytes, source: str | None = None) -> Receipt:
    """Verify, store and apply one webhook delivery from address `source`.

    Raises WebhookInvalid, WebhookThrottled, WebhookRefused, or LookupError for a provider
    we do not use.
    """
    named = {str(name).lower(): value for name, value in headers.items()}  # HTTP header names ignore case
    _check_event_id(named.get("webhook-id", ""))
    if (wait := refusals.throttled(REFUSED, source)) is not None:
        raise WebhookThrottled(wait)
    accounts = accounts_for(provider_name)  # LookupError for a provider we do not use
    message, account = _verify(provider_name, accounts, headers, body, source)
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


def _check_event_id(event_id) -> None:
    """Stored whole, so bounded: a longer id is refused before any work (no query, no audit)."""
    event_id = str(event_id)
    if len(event_id) > MAX_EVENT_ID_LENGTH or _CONTROL.search(event_id):
        raise WebhookInvalid(
            "webhook-id", f"webhook-id must be at most {MAX_EVENT_ID_LENGTH} characters, without control characters."
        )


def _verify(provider_name, accounts, headers, body, source) -> tuple[WebhookMessage, ProviderAccount]:
    reason = "No account at this provider"
    named = {str(name).lower(): value for name, value in headers.items()}
    for account in accounts:
        try:
            return provider_for(account).verify_webhook(headers=headers, body=body), account
        except InvalidWebhook as error:
            reason = str(error)
        except MalformedWebhook as error:
            _audit_malformed(provider_name, account, named, body, str(error))
            raise WebhookInvalid("body", str(error)) from None
    refusal = refusals.count(REFUSED, source)
    if refusal.past_limit:
        raise WebhookThrottled(refusal.retry_after)
    refusals.tally(
        refusal,
        tenant_id=accounts[0].tenant_id if len(accounts) == 1 else None,
        actor=Actor.psp(provider_name),
        reason=reason,
        details=_delivery(provider_name, named, body),
    )
    raise WebhookRefused(reason)


def _audit_malformed(provider_name: str, account: ProviderAccount, named: dict, body: bytes, reason: str) -> None:
    """A signed body we cannot read is the account's own doing: audited as it happens, for its tenant."""
    record_in_own_transaction(
        tenant=account.tenant_id,
        actor=Actor.psp(provider_name),
        action="webhook.malformed",
        reason=reason,
        data=_delivery(provider_name, named, body),
    )


def _delivery(provider_name: str, named: dict, body: bytes) -> dict:
    return {
        "provider": provider_name,
        "webhook_id": str(named.get("webhook-id", ""))[:MAX_EVENT_ID_LENGTH],
        "webhook_timestamp": str(named.get("webhook-timestamp", ""))[:40],
        "body_bytes": len(body),
    }


def _store(provider_name: str, account: ProviderAccount, message: WebhookMessage) -> WebhookEvent | None:
    """Insert the raw event unless this account sent its id before; None means a duplicate."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO payouts_webhookevent (provider, event_id, tenant_id, event_type, payload, signed_at, "
            "received_at, outcome, outcome_detail) VALUES (%s, %s, %s, %s, %s, %s, now(), '', '') "
            "ON CONFLICT (tenant_id, provider, event_id) DO NOTHING RETURNING id",
            [
                provider_name,
                message.event_id,
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
        "payment.charged_back": _dispute_step(1),
        "payment.chargeback_reversed": _dispute_step(2),
        "payment.second_chargeback": _dispute_step(3),
        "payout.returned": _payout_returned,
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
    for key in ("payment_id", "payout_id"):  # kept as the transaction's provider reference
        if key in data and not (isinstance(data[key], str) and len(data[key]) <= MAX_PROVIDER_REFERENCE):
            return f"PSP's {key} is not an id of at most {MAX_PROVIDER_REFERENCE} characters"
    return ""


# Deposits whose payment succeeded (a later dispute does not undo that it did).
_CREDITED = (
    DepositState.COMPLETED,
    DepositState.CHARGED_BACK,
    DepositState.CHARGEBACK_REVERSED,
    DepositState.CHARGED_BACK_AGAIN,
)


def _payment_succeeded(event, data, actor) -> tuple[str, str]:
    deposit = _deposit_for(event, data)
    if deposit is None:
        return Outcome.UNKNOWN_OBJECT, f"No deposit {data.get('reference')!r} for this tenant"
    if problem := _mismatch(deposit, data):
        return Outcome.MISMATCH, problem
    if deposit.state in _CREDITED:
        return Outcome.NO_CHANGE, "Deposit already completed"
    if deposit.state == DepositState.FAILED:
        # Money arrived for a deposit we closed: never lost, never silently credited.
        return Outcome.CONFLICT, "Payment succeeded at the PSP after the deposit was closed as failed"
    if deposit.state == DepositState.CREATED:  # the webhook overtook our own bookkeeping
        mark_deposit_pending(deposit, actor=actor, provider_reference=str(data.get("payment_id", "")))
    method, note = _method_of(data)
    complete_deposit(deposit, actor=actor, reason=f"PSP event {event.event_id}", method=method)
    return Outcome.APPLIED, "Deposit completed" + note


def _method_of(data: dict) -> tuple[MethodDetails | None, str]:
    """The payment method the PSP reports (none is fine); one we cannot read is noted, not fatal:
    the money arrived either way."""
    if "payment_method" not in data:
        return None, ""
    try:
        return MethodDetails.from_psp(data["payment_method"]), ""
    except InvalidMethod as error:
        return None, f"; payment method not recorded: {error}"


def _payment_failed(event, data, actor) -> tuple[str, str]:
    deposit = _deposit_for(event, data)
    if deposit is None:
        return Outcome.UNKNOWN_OBJECT, f"No deposit {data.get('reference')!r} for this tenant"
    if problem := _mismatch(deposit, data):
        return Outcome.MISMATCH, problem
    if deposit.state == DepositState.FAILED:
        return Outcome.NO_CHANGE, "Deposit already failed"
    if deposit.state in _CREDITED:
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


# Disputes (section 16): out of order is safe. A chargeback implies the payment succeeded, a
# reversal implies the chargeback, and a second chargeback the reversal: the steps a late or
# lost event would have taken are applied first, in order, so the deposit never moves
# backwards and ends where the latest news puts it.


def _ensure_completed(deposit: Deposit, event: WebhookEvent, data: dict, actor: Actor) -> None:
    """A dispute about a payment we have not seen succeed: its success overtook us; apply it first."""
    if deposit.state == DepositState.CREATED:
        mark_deposit_pending(deposit, actor=actor, provider_reference=str(data.get("payment_id", "")))
    if deposit.state in (DepositState.CREATED, DepositState.PENDING_PROVIDER):
        method, _ = _method_of(data)
        complete_deposit(
            deposit, actor=actor, reason=f"PSP event {event.event_id} (the success came late)", method=method
        )
        deposit.refresh_from_db(fields=["state"])


# The dispute's steps in order: the deposit's state after each, the service that takes it, its news.
_DISPUTE_STEPS = (
    (DepositState.CHARGED_BACK, services.charge_back_deposit, "Charged back"),
    (DepositState.CHARGEBACK_REVERSED, services.reverse_chargeback, "Chargeback reversed"),
    (DepositState.CHARGED_BACK_AGAIN, services.charge_back_deposit_again, "Charged back again"),
)
_DISPUTE_POSITION = {DepositState.COMPLETED: 0} | {state: n for n, (state, _, _) in enumerate(_DISPUTE_STEPS, 1)}


def _dispute_step(step: int):
    """The handler of the event that takes the dispute to its `step`th state (1: charged back)."""
    target, _, news = _DISPUTE_STEPS[step - 1]

    def handle(event, data, actor) -> tuple[str, str]:
        deposit = _deposit_for(event, data)
        if deposit is None:
            return Outcome.UNKNOWN_OBJECT, f"No deposit {data.get('reference')!r} for this tenant"
        if problem := _mismatch(deposit, data):
            return Outcome.MISMATCH, problem  # a partial chargeback is not handled: an operator looks
        if deposit.state == DepositState.FAILED:
            return Outcome.CONFLICT, f"{news} for a payment we closed as failed: nothing was credited to take back"
        _ensure_completed(deposit, event, data, actor)
        position = _DISPUTE_POSITION[deposit.state]
        if position >= step:  # a redelivery under another id, or a late event the later ones already applied
            return Outcome.NO_CHANGE, f"{news}: the deposit is already {deposit.state}"
        reason = _dispute_reason(event, data, news)
        for state, take, earlier in _DISPUTE_STEPS[position:step]:
            late = "" if state == target else f" ({earlier.lower()}: that event came late)"
            take(deposit, actor=actor, reason=reason + late)
        return Outcome.APPLIED, news

    return handle


def _dispute_reason(event: WebhookEvent, data: dict, default: str) -> str:
    return f"{str(data.get('reason') or default)[:500]} (PSP event {event.event_id})"


def _payout_returned(event, data, actor) -> tuple[str, str]:
    """The bank sent a paid payout back (section 16). A return that overtakes the payout's success
    records the success first; one of a payout recorded as failed contradicts it."""
    attempt = _attempt_for(event, data)
    if attempt is None:
        return Outcome.UNKNOWN_OBJECT, f"No payout attempt {data.get('idempotency_key')!r} for this tenant"
    if problem := _mismatch(attempt.withdrawal, data):
        return Outcome.MISMATCH, problem
    if attempt.withdrawal.state == WithdrawalState.RETURNED:
        return Outcome.NO_CHANGE, "Payout already returned"
    reason = f"{str(data.get('reason') or 'Returned by the beneficiary bank')[:500]} (PSP event {event.event_id})"
    try:
        services.record_payout_returned(
            attempt, actor=actor, reason=reason, provider_reference=str(data.get("payout_id", ""))
        )
    except (PayoutOutcomeConflict, IllegalTransactionStateTransition) as refusal:
        return Outcome.CONFLICT, refusal.detail
    return Outcome.APPLIED, "Payout returned; the money is available again"
