"""Setting a player's KYC status: finance or admin operators, with a reason and a document reference.

Any status may follow any other (a verification can be withdrawn), each change kept in the
append-only history and the audit trail. The player's row is locked, as withdrawals and
deposits read the status under a share lock.
"""

from django.db import transaction
from django.utils import timezone

from core.actors import Actor, ActorType
from core.audit import record_event
from core.errors import PermissionDenied, ReviewReasonRequired, ValidationFailed
from core.unit_of_work import UnitOfWork
from players.models import KycCheck, KycStatus, Player


def set_kyc_status(player, *, status: str, actor: Actor, reason: str, document_ref: str = "") -> Player:
    if actor.type != ActorType.OPERATOR:
        raise PermissionDenied("Only an operator sets a player's KYC status.")
    if status not in KycStatus.values:
        raise ValidationFailed(
            f"status must be one of: {', '.join(KycStatus.values)}.", errors={"status": ["Unknown status."]}
        )
    reason = (reason or "").strip()
    if not reason:
        raise ReviewReasonRequired("Say why the KYC status changes.")
    document_ref = (document_ref or "").strip()[:200]
    with transaction.atomic():
        player = Player.objects.select_for_update().select_related("tenant").get(pk=getattr(player, "pk", player))
        if player.kyc_status == status:
            return player  # the same status again changes nothing
        before = player.kyc_status
        player.kyc_status, player.kyc_updated_at = status, timezone.now()
        player.save(update_fields=["kyc_status", "kyc_updated_at"])
        KycCheck.objects.create(
            player=player,
            tenant_id=player.tenant_id,
            from_status=before,
            to_status=status,
            reason=reason,
            document_ref=document_ref,
            actor_type=str(actor.type),
            actor_user_id=actor.user_id,
            actor_label=actor.label[:150],
        )
        uow = UnitOfWork()
        record_event(
            tenant=player.tenant_id,
            actor=actor,
            action="kyc.status_changed",
            target=player,
            reason=reason,
            before=before,
            after=status,
            data={"document_ref": document_ref},
            uow=uow,
        )
        uow.flush()
        return player
