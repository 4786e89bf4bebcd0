"""Changing a tenant's payment policy, with maker-checker: validated, one transaction, audited.

Tightening applies at once; loosening waits for a second admin as a PolicyChange.
Lock order: the tenant's policy row, then the change row.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from core.actors import Actor
from core.audit import record_event
from core.errors import FourEyesViolation, NotFound, PermissionDenied, ReviewReasonRequired, ValidationFailed
from core.unit_of_work import UnitOfWork
from tenants.errors import IllegalPolicyChangeStateTransition, PolicyChangePending, PolicyChangeStale
from tenants.models import CurrencyLimit, PaymentPolicy, PolicyChange, Tenant
from tenants.operators import ADMIN, scope_of
from tenants.policy import CURRENCY_CONTROLS, POLICY_CONTROLS, FieldChange, apply_changes, differences

LIMIT_FIELDS = tuple(CURRENCY_CONTROLS)


def policy_as_dict(policy: PaymentPolicy) -> dict:
    """The policy as plain values (minor units), for audit before/after and for the API."""
    limits = []
    if policy.pk:
        limits = [
            {"currency": cl.currency, **{name: getattr(cl, name) for name in LIMIT_FIELDS}}
            for cl in policy.currency_limits.order_by("currency")
        ]
    return {**{name: getattr(policy, name) for name in POLICY_CONTROLS}, "currency_limits": limits}


@dataclass(frozen=True)
class PolicyOutcome:
    """What a policy change did: applied at once (`change` is None) or waiting for approval."""

    policy: PaymentPolicy
    change: PolicyChange | None = None

    @property
    def pending(self) -> bool:
        return self.change is not None


def change_payment_policy(
    tenant: Tenant, *, actor: Actor, currency_limits: list[dict], reason: str = "", **controls
) -> PolicyOutcome:
    """Ask for the tenant's policy to become this one (currency rows not listed have no limits).

    `controls` are the policy's own controls (tenants.policy.POLICY_CONTROLS); one not
    given keeps its current value, so a client that does not know a newer control can
    never loosen it by leaving it out.

    Maker-checker: if every difference tightens a control, it applies at once; if any
    loosens one, the whole change waits for another admin (`approve_policy_change`) and
    the policy stays as it is. A change needs a reason; saving the policy unchanged needs
    none and records nothing. Changes apply to requests that arrive after the commit.
    """
    unknown = set(controls) - set(POLICY_CONTROLS)
    if unknown:
        raise ValidationFailed("Unknown policy controls.", errors={name: ["Unknown."] for name in sorted(unknown)})
    _validate(tenant, controls, currency_limits)
    rows = sorted(currency_limits, key=lambda row: row["currency"])
    expire_due_policy_changes(tenant)  # an expired request must not block this one
    with transaction.atomic():
        policy = _lock_policy(tenant)
        before = policy_as_dict(policy)
        current = {row["currency"]: row for row in before["currency_limits"]}
        proposed = {
            **before,
            **controls,
            "currency_limits": [  # a field a listed currency leaves out keeps its value, as controls do
                {
                    name: row[name] if name in row else current.get(row["currency"], {}).get(name)
                    for name in LIMIT_FIELDS
                }
                | {"currency": row["currency"]}
                for row in rows
            ],
        }
        changes = differences(before, proposed)
        if not changes:
            return PolicyOutcome(policy)
        reason = _required_reason(reason, "Say why the payment policy changes.")
        if any(change.loosens for change in changes):
            return PolicyOutcome(policy, _request_change(tenant, changes, actor=actor, reason=reason))
        _write_policy(policy, proposed)
        _audit(tenant, actor, "policy.updated", policy, reason, {"before": before, "after": policy_as_dict(policy)})
        return PolicyOutcome(policy)


def approve_policy_change(change, *, actor: Actor, reason: str = "") -> PolicyChange:
    """A second admin of the tenant (or a platform superuser) applies a pending change.

    The requester cannot approve their own change (FOUR_EYES_VIOLATION). A change whose
    controls moved since it was requested is refused as stale: the approver would not be
    approving what they were shown. Approving an approved change changes nothing.
    """
    reason = _required_reason(reason, "Say why you approve this change.")
    change = _find(change)
    expire_due_policy_changes(change.tenant)
    with transaction.atomic():
        policy = _lock_policy(change.tenant)
        change = PolicyChange.objects.select_for_update().get(pk=change.pk)
        target = PolicyChange.State.APPROVED
        if change.state == target:
            return change
        if change.state != PolicyChange.State.PENDING_APPROVAL:
            raise IllegalPolicyChangeStateTransition(from_state=change.state, to_state=target)
        _ensure_policy_admin(actor, change.tenant)
        if actor.user_id == change.requested_by_id:
            raise FourEyesViolation(
                "You requested this policy change, so another admin must approve it.",
                requested_by=change.requested_by_label,
            )
        before = policy_as_dict(policy)
        changes = [FieldChange.from_dict(row) for row in change.changes]
        moved = [c for c in changes if _current_value(before, c) != c.before]
        if moved:
            raise PolicyChangeStale(
                "The policy changed since this request; reject it and request the change again.",
                changed_fields=[{"field": c.field, "currency": c.currency} for c in moved],
            )
        _write_policy(policy, apply_changes(before, changes))
        _decide(change, target, actor=actor, reason=reason)
        _audit(
            change.tenant,
            actor,
            "policy.change_approved",
            change,
            reason,
            {"before": before, "after": policy_as_dict(policy), "requested_by": change.requested_by_label},
            before_state=PolicyChange.State.PENDING_APPROVAL,
        )
        return change


def reject_policy_change(change, *, actor: Actor, reason: str = "") -> PolicyChange:
    """Any admin of the tenant turns a pending change down; the requester may withdraw their own."""
    reason = _required_reason(reason, "Say why you reject this change.")
    change = _find(change)
    expire_due_policy_changes(change.tenant)
    with transaction.atomic():
        _lock_policy(change.tenant)
        change = PolicyChange.objects.select_for_update().get(pk=change.pk)
        target = PolicyChange.State.REJECTED
        if change.state == target:
            return change
        if change.state != PolicyChange.State.PENDING_APPROVAL:
            raise IllegalPolicyChangeStateTransition(from_state=change.state, to_state=target)
        _ensure_policy_admin(actor, change.tenant)
        _decide(change, target, actor=actor, reason=reason)
        _audit(
            change.tenant,
            actor,
            "policy.change_rejected",
            change,
            reason,
            {"changes": change.changes},
            before_state=PolicyChange.State.PENDING_APPROVAL,
        )
        return change


def expire_due_policy_changes(tenant: Tenant | None = None, *, now=None) -> int:
    """Pending changes past their expiry become expired (audited); the policy stays as it is."""
    now = now or timezone.now()
    due = PolicyChange.objects.filter(state=PolicyChange.State.PENDING_APPROVAL, expires_at__lte=now)
    if tenant is not None:
        due = due.filter(tenant=tenant)
    expired = 0
    for change_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            change = PolicyChange.objects.select_for_update().select_related("tenant").get(pk=change_id)
            if change.state != PolicyChange.State.PENDING_APPROVAL or change.expires_at > now:
                continue
            change.state, change.decided_at = PolicyChange.State.EXPIRED, now
            change.save(update_fields=["state", "decided_at"])
            _audit(
                change.tenant,
                EXPIRY,
                "policy.change_expired",
                change,
                "Not approved within 72 hours",
                {"changes": change.changes},
                before_state=PolicyChange.State.PENDING_APPROVAL,
            )
            expired += 1
    return expired


EXPIRY = Actor.system("policy-change-expiry")


def set_tenant_status(tenant: Tenant, status: str, *, actor: Actor, reason: str) -> Tenant:
    """Suspend a casino (no new payments; what is at the PSP still completes) or reactivate it; audited."""
    reason = _required_reason(reason, "Say why the casino's status changes.")
    if status not in Tenant.Status.values:
        raise ValidationFailed(f"Unknown status {status!r}.", errors={"status": ["Unknown."]})
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if locked.status == status:
            return locked
        before, locked.status = locked.status, status
        locked.save(update_fields=["status"])
        _audit(locked, actor, f"tenant.{status}", locked, reason, {}, before_state=before, after_state=status)
        return locked


def _request_change(tenant: Tenant, changes: list[FieldChange], *, actor: Actor, reason: str) -> PolicyChange:
    pending = PolicyChange.objects.filter(tenant=tenant, state=PolicyChange.State.PENDING_APPROVAL).first()
    if pending is not None:
        raise PolicyChangePending(
            f"Policy change #{pending.pk} is waiting for approval; approve or reject it first.",
            pending_change=pending.pk,
        )
    change = PolicyChange.objects.create(
        tenant=tenant,
        changes=[c.as_dict() for c in changes],
        reason=reason,
        requested_by_id=actor.user_id,
        requested_by_label=actor.label[:150],
        expires_at=timezone.now() + PolicyChange.TTL,
    )
    _audit(
        tenant,
        actor,
        "policy.change_requested",
        change,
        reason,
        {"changes": change.changes, "expires_at": change.expires_at.isoformat()},
        after_state=change.state,
    )
    return change


def _find(change) -> PolicyChange:
    if isinstance(change, PolicyChange):
        return change
    found = PolicyChange.objects.select_related("tenant").filter(pk=change).first()
    if found is None:
        raise NotFound("No such policy change.")
    return found


def _lock_policy(tenant: Tenant) -> PaymentPolicy:
    """The tenant's policy row, locked: every change of one tenant's policy is serialized on it."""
    PaymentPolicy.objects.bulk_create([PaymentPolicy(tenant=tenant)], ignore_conflicts=True)  # first change: race-free
    return PaymentPolicy.objects.select_for_update().get(tenant=tenant)


def _write_policy(policy: PaymentPolicy, plain: dict) -> None:
    for name in POLICY_CONTROLS:
        setattr(policy, name, plain[name])
    policy.save()
    policy.currency_limits.all().delete()
    CurrencyLimit.objects.bulk_create(
        CurrencyLimit(policy=policy, currency=row["currency"], **{name: row.get(name) for name in LIMIT_FIELDS})
        for row in plain["currency_limits"]
    )


def _current_value(plain: dict, change: FieldChange):
    if change.currency is None:
        return plain[change.field]
    row = next((r for r in plain["currency_limits"] if r["currency"] == change.currency), {})
    return row.get(change.field)


def _ensure_policy_admin(actor: Actor, tenant: Tenant) -> None:
    scope = scope_of(actor.user) if actor.user is not None else None
    if scope is None or not scope.can(ADMIN) or not (scope.is_platform or scope.tenant.pk == tenant.pk):
        raise PermissionDenied("Only an admin of this casino or a platform superuser decides on policy changes.")


def _decide(change: PolicyChange, state: str, *, actor: Actor, reason: str) -> None:
    change.state = state
    change.decided_by_id, change.decided_by_label = actor.user_id, actor.label[:150]
    change.decided_at, change.decision_reason = timezone.now(), reason
    change.save(update_fields=["state", "decided_by", "decided_by_label", "decided_at", "decision_reason"])


def _required_reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReviewReasonRequired(message)
    return reason


def _audit(tenant, actor, action, target, reason, data, *, before_state="", after_state="") -> None:
    uow = UnitOfWork()
    record_event(
        tenant=tenant,
        actor=actor,
        action=action,
        target=target,
        reason=reason,
        before=before_state,
        after=after_state or getattr(target, "state", ""),
        data=data,
        uow=uow,
    )
    uow.flush()


# Whole-number controls: (smallest, largest, unit).
RANGES = {
    "payout_retry_limit": (1, 20, ""),
    "payout_cooldown_seconds": (0, 7 * 86400, " of seconds"),
    "limit_increase_cooldown_hours": (0, 24 * 90, " of hours"),
    "velocity_withdrawals_per_day": (1, 100, ""),
    "game_round_idle_minutes": (1, 7 * 24 * 60, " of minutes"),
}
SWITCHES = ("kyc_required_for_withdrawal", "player_cancel_allowed", "closed_loop")


def _validate(tenant: Tenant, controls: dict, rows: list[dict]) -> None:
    errors: dict[str, list[str]] = {}
    for name, (low, high, unit) in RANGES.items():
        value = controls.get(name, low)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors[name] = [f"Must be a whole number{unit} from {low} to {high}."]
    for name in SWITCHES:
        if not isinstance(controls.get(name, False), bool):
            errors[name] = ["Must be true or false."]
    seen = set()
    for row in rows:
        currency = row.get("currency")
        if currency not in tenant.allowed_currencies:
            errors.setdefault("currency_limits", []).append(f"{currency} is not a currency of {tenant.name}.")
        if currency in seen:
            errors.setdefault("currency_limits", []).append(f"{currency} is listed twice.")
        seen.add(currency)
        for name in LIMIT_FIELDS:
            value = row.get(name)
            floor = 0 if name.startswith("daily_") else 1  # a daily limit of 0 stops that payment type
            if value is not None and (not isinstance(value, int) or value < floor):
                errors.setdefault("currency_limits", []).append(f"{currency} {name} must be at least {floor}.")
        low, high = row.get("min_amount"), row.get("max_amount")
        if low is not None and high is not None and high < low:
            errors.setdefault("currency_limits", []).append(f"{currency} max_amount is below min_amount.")
    if errors:
        raise ValidationFailed("The payment policy is not valid.", errors=errors)
