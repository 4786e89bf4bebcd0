"""Refusals of the game wallet (ARCHITECTURE section 15), one class per code.

The game wallet also answers with codes of other domains: INSUFFICIENT_FUNDS (wallet),
PLAYER_EXCLUDED and PLAYER_LIMIT_EXCEEDED kind `loss` (players), TENANT_SUSPENDED
(tenants), VALIDATION_ERROR and RATE_LIMITED. docs/game-wallet.md lists them all.
"""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class SignatureInvalid(DomainError):
    """A provider call without a valid Standard Webhooks signature of that provider account."""

    error_code = "SIGNATURE_INVALID"
    status = 401
    title = "Signature invalid"
    operator_message = _("The game provider's call was not signed with one of its active secrets.")


class GameSessionUnknown(DomainError):
    """No session with this token at this provider account: another tenant's, another provider's, or none."""

    error_code = "GAME_SESSION_UNKNOWN"
    status = 404
    title = "Unknown game session"
    operator_message = _("No such game session for this game provider.")


class GameSessionExpired(DomainError):
    error_code = "GAME_SESSION_EXPIRED"
    status = 403
    title = "Game session expired"
    operator_message = _("The game session expired at %(expired_at)s: no more bets in it.")


class GameRoundClosed(DomainError):
    error_code = "GAME_ROUND_CLOSED"
    status = 409
    title = "Game round closed"
    operator_message = _("Game round %(round_id)s is closed: it takes no more bets.")


class GameRoundUnknown(DomainError):
    error_code = "GAME_ROUND_UNKNOWN"
    status = 409
    title = "Game round unknown"
    operator_message = _("Game round %(round_id)s has no bet: a win needs one.")


class GameRoundSettled(DomainError):
    error_code = "GAME_ROUND_SETTLED"
    status = 409
    title = "Game round settled"
    operator_message = _("Game round %(round_id)s has paid a win: its bets can no longer be rolled back.")


class GameTransactionRolledBack(DomainError):
    error_code = "GAME_TRANSACTION_ROLLED_BACK"
    status = 409
    title = "Game transaction rolled back"
    operator_message = _("Bet %(transaction_id)s was rolled back before it arrived; it is not placed.")


class GameTransactionConflict(DomainError):
    error_code = "GAME_TRANSACTION_CONFLICT"
    status = 409
    title = "Game transaction conflict"
    operator_message = _("Transaction %(transaction_id)s was already sent with a different request.")
