"""Writing the audit trail, in the same transaction as the change it records."""

from django.db import transaction

from core.actors import Actor
from core.context import client_ip_var, request_id_var
from core.models import AuditEvent
from core.unit_of_work import UnitOfWork


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
    uow: UnitOfWork,
) -> None:
    """Queue one audit event, with the current request id and client IP, on `uow`.

    `tenant` is a Tenant, its id, or None for platform-level events; `target` is a
    model instance (its class names the type). The row is sent with the rest of the
    caller's writes when it flushes the unit of work, in the same transaction.
    """
    uow.insert_values(
        AuditEvent,
        {
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
            "created_at": uow.now,
        },
        step=f"audit event {action}",
    )


def record_in_own_transaction(**kwargs) -> None:
    """Audit in a transaction of its own: a refusal (whose own transaction rolled back) or an
    event no service transaction surrounds (a sign-in). Inside another transaction it joins it."""
    with transaction.atomic():
        uow = UnitOfWork()
        record_event(**kwargs, uow=uow)
        uow.flush()


def target_type_of(target) -> str:
    if target is None:
        return ""
    return getattr(target, "TX_TYPE", None) or target._meta.model_name
