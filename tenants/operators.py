"""Who an operator is and what they may see and do; shared by the operator API and console.

Every operator works for one tenant (OperatorMembership) with one role:
viewer reads, finance also decides on withdrawals, admin also edits the payment
policy. A platform superuser sees and acts on every tenant. Another tenant's object
is always "not found", never "forbidden".
"""

from dataclasses import dataclass

from core.errors import PermissionDenied
from tenants.models import OperatorMembership, Tenant

VIEWER, FINANCE, ADMIN = OperatorMembership.Role.VIEWER, OperatorMembership.Role.FINANCE, OperatorMembership.Role.ADMIN
_RANK = {VIEWER: 0, FINANCE: 1, ADMIN: 2}


@dataclass(frozen=True)
class OperatorScope:
    user: object
    tenant: Tenant | None  # None: platform superuser, every tenant
    role: str

    @property
    def is_platform(self) -> bool:
        return self.tenant is None

    def filter(self, queryset, field: str = "tenant"):
        """Limit a queryset to what this operator may see."""
        return queryset if self.is_platform else queryset.filter(**{f"{field}_id": self.tenant.pk})

    def can(self, role: str) -> bool:
        return _RANK[self.role] >= _RANK[role]

    def require(self, role: str, action: str) -> None:
        if not self.can(role):
            raise PermissionDenied(f"Your role ({self.role}) may not {action}; it needs {role}.")


def scope_of(user) -> OperatorScope | None:
    """The operator scope of a user, or None if the user is no operator."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return OperatorScope(user=user, tenant=None, role=ADMIN)
    membership = OperatorMembership.objects.select_related("tenant").filter(user=user).first()
    if membership is None:
        return None
    return OperatorScope(user=user, tenant=membership.tenant, role=membership.role)
