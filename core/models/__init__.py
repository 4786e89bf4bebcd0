from .audit import ActorFields, AuditEvent
from .form_tokens import FormToken
from .idempotency import IdempotencyRecord
from .refusals import RefusalTally

__all__ = ["ActorFields", "AuditEvent", "FormToken", "IdempotencyRecord", "RefusalTally"]
