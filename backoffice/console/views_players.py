"""Player search and the player page: the context an operator reads before deciding on money,
and the protections finance and admin set there (KYC status, operator blocks).

Each act is one POST that calls the players app's service (which audits it) and redirects
back to the player page (POST-redirect-GET). The KYC and block forms carry a one-time
token issued with the page, spent in the act's transaction: a double click or a resent
form blocks once, and a stale KYC form cannot undo a colleague's later change. Lifting
needs none: lifting a lifted block changes nothing, and the page says so.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from backoffice.labels import label
from backoffice.player_context import find_player, find_players, player_context
from backoffice.player_protection import find_exclusion
from backoffice.templatetags.console import when
from core import form_tokens, replica
from core.actors import Actor
from core.errors import DomainError, describe
from players.exclusions import block_player, lift_block
from players.kyc import set_kyc_status
from players.models import KycStatus
from tenants.access import operator_view
from tenants.operators import FINANCE

REASON_REQUIRED = gettext_lazy("Give a reason for this decision. Nothing was changed.")


class KycForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("New status"), choices=KycStatus.choices)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=2000, required=False, widget=forms.Textarea)
    document_ref = forms.CharField(label=gettext_lazy("Document reference (optional)"), max_length=200, required=False)


class BlockForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=2000, required=False, widget=forms.Textarea)
    days = forms.IntegerField(
        label=gettext_lazy("Days (empty: until lifted)"), min_value=1, max_value=3650, required=False
    )


@operator_view()
@replica.reads  # the search list; the player page, where operators act, reads the primary
def players(request):
    query = request.GET.get("q", "").strip()[:150]
    rows = find_players(request.operator, query)
    return render(request, "console/players.html", {"query": query, "players": rows})


@operator_view()
def player_detail(request, player_id):
    player = _player(request, player_id)
    context = {"player": player_context(player), "may_act": request.operator.can(FINANCE)}
    if context["may_act"]:
        context.update(
            kyc_form=KycForm(initial={"status": player.kyc_status}),
            kyc_token=form_tokens.issue(request.user, _purpose("kyc", player)),
            block_form=BlockForm(),
            block_token=form_tokens.issue(request.user, _purpose("block", player)),
        )
    return render(request, "console/player.html", context)


@require_POST
@operator_view()
def set_kyc(request, player_id):
    player = _acting_on(request, player_id)
    form = KycForm(request.POST)
    if not form.is_valid():
        return _back(request, player, error=_form_errors(form))
    data = form.cleaned_data
    if not data["reason"].strip():
        return _back(request, player, error=str(REASON_REQUIRED))
    before = player.kyc_status

    def act():
        return set_kyc_status(
            player,
            status=data["status"],
            actor=Actor.operator(request.user),
            reason=data["reason"],
            document_ref=data["document_ref"],
        )

    done = _once(request, player, "kyc", act)
    if done is not None:
        status = label("kyc", done.kyc_status)
        if done.kyc_status == before:
            messages.info(request, _("The KYC status is already %(status)s; nothing changed.") % {"status": status})
        else:
            messages.success(request, _("KYC status set to %(status)s.") % {"status": status})
    return redirect("console:player", player_id=player.pk)


@require_POST
@operator_view()
def block(request, player_id):
    player = _acting_on(request, player_id)
    form = BlockForm(request.POST)
    if not form.is_valid():
        return _back(request, player, error=_form_errors(form))
    data = form.cleaned_data
    if not data["reason"].strip():
        return _back(request, player, error=str(REASON_REQUIRED))

    def act():
        return block_player(player, actor=Actor.operator(request.user), reason=data["reason"], days=data["days"])

    done = _once(request, player, "block", act)
    if done is not None:
        if done.ends_at:
            text = _("The player is blocked until %(until)s: no deposits or play.") % {"until": when(done.ends_at)}
        else:
            text = _("The player is blocked until the block is lifted: no deposits or play.")
        messages.success(request, text)
    return redirect("console:player", player_id=player.pk)


@require_POST
@operator_view()
def lift(request, player_id, exclusion_id):
    player = find_player(request.operator, player_id)
    exclusion = find_exclusion(player, exclusion_id) if player is not None else None
    if exclusion is None:
        raise Http404  # another tenant's player, or another player's exclusion: not found for every role
    _require_finance(request)
    reason = request.POST.get("reason", "")
    if not reason.strip():
        return _back(request, player, error=str(REASON_REQUIRED))
    was_lifted = exclusion.lifted_at is not None
    try:
        lifted = lift_block(exclusion, actor=Actor.operator(request.user), reason=reason)
    except DomainError as error:
        return _back(request, player, error=describe(error))
    if was_lifted or lifted.lifted_at is None:
        messages.info(request, _("This block was already lifted or has ended; nothing changed."))
    else:
        messages.success(request, _("The block is lifted: the player may deposit and play again."))
    return redirect("console:player", player_id=player.pk)


def _player(request, player_id):
    player = find_player(request.operator, player_id)
    if player is None:
        raise Http404
    return player


def _acting_on(request, player_id):
    """The player, looked up first: another tenant's id is 404 for every role; then the role."""
    player = _player(request, player_id)
    _require_finance(request)
    return player


def _require_finance(request) -> None:
    if not request.operator.can(FINANCE):
        raise PermissionDenied(_("Your role can read but not decide."))


def _once(request, player, form: str, act):
    """Spend the form's one-time token and act in one transaction; None if refused (with a message)."""
    token, purpose = request.POST.get("form_token", ""), _purpose(form, player)
    with transaction.atomic():
        if not form_tokens.spend(request.user, token, purpose):
            messages.warning(request, _("This form was already submitted; it was not done twice."))
            return None
        try:
            return act()
        except DomainError as error:
            # Nothing was done: the token may be used again for a corrected form.
            form_tokens.release(request.user, token, purpose)
            messages.error(request, describe(error))
            return None


def _purpose(form: str, player) -> str:
    return f"player.{form}:{player.pk}"


def _back(request, player, *, error: str):
    messages.error(request, error)
    return redirect("console:player", player_id=player.pk)


def _form_errors(form) -> str:
    return _("Please correct the form: %(detail)s") % {
        "detail": " ".join(f"{form.fields[name].label}: {' '.join(errors)}" for name, errors in form.errors.items())
    }
