"""Which decisions the withdrawal page offers this operator, and why the others are not offered.

The services refuse whatever they must (four eyes, illegal transitions) whatever the
page shows; this module keeps the page honest, so an operator is never offered a button
that can only fail, and is told why it is missing.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from payouts.selectors import has_provider
from tenants.operators import FINANCE
from wallet import services
from wallet.errors import PlayerAccountRestricted
from wallet.models import WithdrawalState
from wallet.protection import open_receivables

State = WithdrawalState


@dataclass(frozen=True)
class Decision:
    name: str
    label: str
    act: object
    states: frozenset


DECISIONS = {
    d.name: d
    for d in (
        Decision("approve", _("Approve"), services.approve_withdrawal, frozenset({State.REQUESTED})),
        Decision("reject", _("Reject"), services.reject_withdrawal, frozenset({State.REQUESTED, State.PAYOUT_FAILED})),
        Decision("mark-paid", _("Mark paid"), services.mark_withdrawal_paid, frozenset({State.APPROVED})),
        Decision("retry-payout", _("Retry payout"), services.retry_payout, frozenset({State.PAYOUT_FAILED})),
    )
}

# What wallet.services refuses while the player owes the casino (reject stays: it repays).
REFUSED_WHILE_RESTRICTED = frozenset({"approve", "mark-paid", "retry-payout"})


def offered(withdrawal, operator) -> tuple[list[Decision], list[str]]:
    """(the decisions to show, notes on the ones held back), read from the withdrawal as it is now.

    `withdrawal` comes from backoffice.selectors (with approval counts and approver ids).
    """
    if not operator.can(FINANCE):
        return [], [_("Your role can read but not decide.")]
    user_id = operator.user.pk
    shown, notes = [], []
    restricted = None  # read once, and only when a decision it refuses is in play
    for decision in DECISIONS.values():
        if withdrawal.state not in decision.states:
            continue
        why_not = _held_back(decision.name, withdrawal, user_id)
        if not why_not and decision.name in REFUSED_WHILE_RESTRICTED:
            if restricted is None:
                restricted = bool(open_receivables(withdrawal.player_id))
            if restricted:
                # The player owes the casino after a chargeback: the service refuses these.
                why_not = PlayerAccountRestricted.operator_message
        if why_not:
            notes.append(why_not)
        else:
            shown.append(decision)
    if not shown and not notes:
        notes.append(_("No decision is possible in this state."))
    return shown, notes


def _held_back(name: str, withdrawal, user_id: int):
    requested_it = withdrawal.requested_by_id == user_id
    approved_it = user_id in (withdrawal.approver_ids or [])
    if name == "approve":
        if requested_it:
            return _("You requested this withdrawal, so another finance operator must approve it.")
        if approved_it:
            return _("You approved this withdrawal already; a second finance operator must approve it.")
    if name == "mark-paid":
        if has_provider(withdrawal.tenant):
            # The approval queued the payout at the PSP; paying by hand too would pay twice.
            return _(
                "The payout is on its way through the payment provider; it is marked paid when the provider confirms."
            )
        if requested_it or approved_it:
            return _("You requested or approved this withdrawal, so another operator must mark it paid.")
    return None
