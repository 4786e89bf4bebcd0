"""Applying a state-machine transition with its history row and audit event.

Callers hold the object's row lock. A transition to the state the object is already
in is a no-op (returns False, writes nothing); one the machine does not allow raises
IllegalTransition with from_state, to_state and tx_type.
"""

from django_fsm import can_proceed

from wallet.audit import record_event
from wallet.errors import IllegalTransition
from wallet.models import Actor, Deposit, DepositTransition, WithdrawalTransition


def transition_target(obj, name: str) -> str:
    meta = getattr(obj, name)._django_fsm
    (target,) = {t.target for t in meta.transitions.values()}
    return target


def apply_transition(
    obj,
    name: str,
    *,
    actor: Actor,
    reason: str = "",
    extra_fields: tuple[str, ...] = (),
    data: dict | None = None,
) -> bool:
    """Run transition `name` on the locked `obj`, save it, and write history and audit."""
    target = transition_target(obj, name)
    if obj.state == target:
        return False
    method = getattr(obj, name)
    if not can_proceed(method):
        raise IllegalTransition(tx_type=obj.TX_TYPE, from_state=obj.state, to_state=target)
    from_state = obj.state
    method()
    obj.save(update_fields=["state", "updated_at", *extra_fields])
    history = DepositTransition if isinstance(obj, Deposit) else WithdrawalTransition
    history.objects.create(
        **{obj.TX_TYPE: obj},
        tenant_id=obj.tenant_id,
        from_state=from_state,
        to_state=target,
        reason=reason,
        actor_type=actor.type,
        actor_user_id=actor.user_id,
        actor_label=actor.label[:150],
    )
    record_event(
        tenant=obj.tenant_id,
        actor=actor,
        action=f"{obj.TX_TYPE}.{target}",
        target=obj,
        reason=reason,
        before=from_state,
        after=target,
        data=data,
    )
    return True


def record_creation(obj, *, actor: Actor, reason: str = "", data: dict | None = None) -> None:
    """The first timeline row of a new deposit or withdrawal (from the empty state)."""
    history = DepositTransition if isinstance(obj, Deposit) else WithdrawalTransition
    history.objects.create(
        **{obj.TX_TYPE: obj},
        tenant_id=obj.tenant_id,
        from_state="",
        to_state=obj.state,
        reason=reason,
        actor_type=actor.type,
        actor_user_id=actor.user_id,
        actor_label=actor.label[:150],
    )
    record_event(
        tenant=obj.tenant_id,
        actor=actor,
        action=f"{obj.TX_TYPE}.{obj.state}",
        target=obj,
        reason=reason,
        after=obj.state,
        data={"amount": obj.amount, "currency": obj.currency, **(data or {})},
    )
