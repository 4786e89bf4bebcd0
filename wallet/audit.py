"""Writing the audit trail, in the same transaction as the change it records."""

from django.db import transaction
from django.utils import timezone

from wallet.context import client_ip_var, request_id_var
from wallet.models import Actor, AuditEvent
from wallet.unit_of_work import UnitOfWork


def record_event(
    *,
    tenant,
    actor: Actor,
    action: str,
    target=None,
    reason: str = "",
    before: str = "",
    after: str = "",
    data: dict | None = None,
    uow: UnitOfWork | None = None,
) -> AuditEvent | None:
    """Append one audit event, with the current request id and client IP.

    `tenant` is a Tenant, its id, or None for platform-level events; `target` is a
    model instance (its class names the type). With a unit of work the row is sent
    with the rest of the service's writes (and None is returned); without one it is
    written at once and returned.
    """
    values = {
        "tenant_id": getattr(tenant, "pk", tenant),
        "actor_type": str(actor.type),
        "actor_user_id": actor.user_id,
        "actor_label": actor.label[:150],
        "action": action,
        "target_type": target_type_of(target),
        "target_id": str(target.pk) if target is not None else "",
        "reason": reason,
        "before_state": before or "",
        "after_state": after or "",
        "data": data or {},
        "request_id": request_id_var.get(),
        "ip": client_ip_var.get(),
    }
    if uow is None:
        return AuditEvent.objects.create(**values)
    uow.insert_values(AuditEvent, {**values, "created_at": timezone.now()})
    return None


def record_refusal(**kwargs) -> AuditEvent:
    """Audit a refused request in its own transaction: the refusal rolled back the rest."""
    with transaction.atomic():
        return record_event(**kwargs)


def target_type_of(target) -> str:
    if target is None:
        return ""
    return getattr(target, "TX_TYPE", None) or target._meta.model_name
