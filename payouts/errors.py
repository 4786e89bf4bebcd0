"""Refusals of the PSP input and output (codes are part of the API contract)."""

from core.errors import DomainError


class ProviderUnavailable(DomainError):
    """The tenant's PSP cannot take the request now (unreachable, or none configured)."""

    error_code = "PROVIDER_UNAVAILABLE"
    status = 503
    title = "Payment provider unavailable"
