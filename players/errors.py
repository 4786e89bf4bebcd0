"""Refusals that protect the player: exclusions, their own limits, identity checks (ARCHITECTURE 13, 14)."""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.money import format_amount


class PlayerExcluded(DomainError):
    """An active exclusion (a break, a self-exclusion, an operator block, the national register)."""

    error_code = "PLAYER_EXCLUDED"
    status = 403
    title = "Player excluded"
    operator_message = _("The player is excluded (%(kind)s) until %(ends_at)s: no deposits or play.")


class PlayerLimitExceeded(DomainError):
    """A limit the player set on themselves would be exceeded. Amounts are kept in minor units."""

    error_code = "PLAYER_LIMIT_EXCEEDED"
    status = 422
    title = "Player limit exceeded"
    operator_message = _(
        "The player's own %(kind)s limit of %(limit)s %(currency)s per %(period)s would be exceeded: "
        "%(used)s used, %(requested)s requested."
    )

    def __init__(self, *, kind: str, period: str, limit: int, used: int, requested: int, currency: str):
        super().__init__(
            f"Your {kind} limit of {format_amount(limit, currency)} {currency} per {period} would be exceeded: "
            f"{format_amount(used, currency)} used, {format_amount(requested, currency)} requested.",
            kind=kind,
            period=period,
            limit=format_amount(limit, currency),
            used=format_amount(used, currency),
            requested=format_amount(requested, currency),
            currency=currency,
        )
        self.kind, self.period, self.limit, self.used, self.requested = kind, period, limit, used, requested
        self.currency = currency


class KycRequired(DomainError):
    """The player's identity must be verified first (withdrawals, or deposits past the threshold)."""

    error_code = "KYC_REQUIRED"
    status = 403
    title = "Identity verification required"
    operator_message = _("The player's identity must be verified (KYC) first.")


class ExclusionWouldShorten(DomainError):
    """A player's own exclusion can be extended, never shortened or lifted."""

    error_code = "EXCLUSION_WOULD_SHORTEN"
    status = 409
    title = "An exclusion can only be extended"
    operator_message = _("A longer exclusion is already in force until %(ends_at)s; it cannot be shortened.")


class ExclusionNotLiftable(DomainError):
    """Only an operator's block can be lifted, by an operator; a player's own exclusion runs its course."""

    error_code = "EXCLUSION_NOT_LIFTABLE"
    status = 409
    title = "This exclusion cannot be lifted"
    operator_message = _("Only an operator block can be lifted; the player's own exclusion runs until it ends.")
