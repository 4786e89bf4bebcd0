"""Refusals that come from the tenant itself."""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class TenantSuspended(DomainError):
    error_code = "TENANT_SUSPENDED"
    status = 403
    title = "Tenant suspended"
    operator_message = _("This casino is suspended: no payments can be made.")
