"""Applying a state-machine transition with its history row and audit event.

Callers hold the object's row lock. A transition to the state the object is already
in is a no-op (returns False, writes nothing); one the machine does not allow raises
IllegalTransactionStateTransition with from_state, to_state and tx_type.
"""

from django.utils import timezone
from django_fsm import can_proceed

from core.actors import Actor
from core.audit import record_event
from core.unit_of_work import UnitOfWork
from wallet.errors import IllegalTransactionStateTransition
from wallet.models import Deposit, DepositTransition, WithdrawalTransition


def transition_target(obj, name: str) -> str:
    meta = getattr(obj, name)._django_fsm
    (target,) = {t.target for t in meta.transitions.values()}
    return target


def apply_transition(
    uow: UnitOfWork,
    obj,
    name: str,
    *,
    actor: Actor,
    reason: str = "",
    changes: dict | None = None,
    data: dict | None = None,
) -> bool:
    """Run transition `name` on the locked `obj` and queue its row update, history and audit.

    `changes` are further fields set on the row with the new state, only when the
    transition happens.
    """
    target = transition_target(obj, name)
    if obj.state == target:
        return False
    method = getattr(obj, name)
    if not can_proceed(method):
        raise IllegalTransactionStateTransition(tx_type=obj.TX_TYPE, from_state=obj.state, to_state=target)
    from_state = obj.state
    method()
    for field, value in (changes or {}).items():
        setattr(obj, field, value)
    uow.update(obj, ("state", *(changes or {})))
    _record_history(uow, obj, from_state=from_state, actor=actor, reason=reason)
    record_event(
        tenant=obj.tenant_id,
        actor=actor,
        action=f"{obj.TX_TYPE}.{target}",
        target=obj,
        reason=reason,
        before=from_state,
        after=target,
        data=data,
        uow=uow,
    )
    return True


def record_creation(uow: UnitOfWork, obj, *, actor: Actor, reason: str = "", data: dict | None = None) -> None:
    """Queue the INSERT of a new deposit or withdrawal with its first timeline row and audit event."""
    uow.insert(obj)
    _record_history(uow, obj, from_state="", actor=actor, reason=reason)
    record_event(
        tenant=obj.tenant_id,
        actor=actor,
        action=f"{obj.TX_TYPE}.{obj.state}",
        target=obj,
        reason=reason,
        after=obj.state,
        data={"amount": obj.amount, "currency": obj.currency, **(data or {})},
        uow=uow,
    )


def _record_history(uow: UnitOfWork, obj, *, from_state: str, actor: Actor, reason: str) -> None:
    history = DepositTransition if isinstance(obj, Deposit) else WithdrawalTransition
    uow.insert_values(
        history,
        {
            f"{obj.TX_TYPE}_id": obj.pk,
            "tenant_id": obj.tenant_id,
            "from_state": from_state,
            "to_state": str(obj.state),
            "reason": reason,
            "actor_type": str(actor.type),
            "actor_user_id": actor.user_id,
            "actor_label": actor.label[:150],
            "created_at": timezone.now(),
        },
    )
