"""Who works at a casino, for the tests: roles, operators, the platform superuser."""

from tenants.models import OperatorMembership
from tenants.tests.factories import OperatorFactory, UserFactory

PASSWORD = "correct-horse-battery"  # tenants.tests.factories.UserFactory

VIEWER, FINANCE, ADMIN = (r.value for r in OperatorMembership.Role)
ROLES = (VIEWER, FINANCE, ADMIN)
DECIDING_ROLES = (FINANCE, ADMIN)

# decision -> (the state it is taken in, the state it leads to)
DECISIONS = {
    "approve": ("requested", "approved"),
    "reject": ("requested", "rejected"),
    "mark-paid": ("approved", "paid"),
    "retry-payout": ("payout_failed", "payout_pending"),
}


def operator_user(tenant, role: str = FINANCE):
    """A user who works for `tenant` with `role`."""
    return OperatorFactory(tenant=tenant, role=role).user


def platform_superuser():
    """A platform superuser: no membership, sees and acts on every tenant."""
    return UserFactory(username="platform-root", is_superuser=True, is_staff=True)
