"""The review queue, the withdrawal page and the decisions taken on it.

A decision is three requests: the form on the withdrawal page (reason), a
confirmation page that issues a one-time token, and the confirmed POST that spends
the token and calls the service in one transaction, then redirects (POST-redirect-GET).
"""

from datetime import UTC

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from backoffice import selectors
from backoffice.labels import LABELS
from backoffice.player_context import destination, player_context
from core import days, replica
from core import form_tokens as tokens
from core.actors import Actor
from core.errors import DomainError, ValidationFailed, describe
from core.money import CURRENCY_CODES
from tenants.access import operator_view
from tenants.operators import FINANCE
from wallet.models import WithdrawalState

from . import decisions

SLA_SECONDS = 24 * 3600  # a withdrawal waiting longer than this is shown as late


class QueueFilterForm(forms.Form):
    state = forms.MultipleChoiceField(
        label=gettext_lazy("State"),
        choices=WithdrawalState.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    player = forms.CharField(label=gettext_lazy("Player"), required=False, max_length=150)
    currency = forms.ChoiceField(label=gettext_lazy("Currency"), required=False)
    min_amount = forms.CharField(label=gettext_lazy("Amount from"), required=False, max_length=20)
    max_amount = forms.CharField(label=gettext_lazy("Amount to"), required=False, max_length=20)
    created_after = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_before = forms.DateField(
        label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    awaiting_second_approval = forms.BooleanField(label=gettext_lazy("Awaiting second approval"), required=False)
    flag = forms.MultipleChoiceField(
        label=gettext_lazy("Risk flags (any of)"),
        choices=list(LABELS["risk_flag"].items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    ordering = forms.ChoiceField(
        choices=[("created_at", ""), ("-created_at", ""), ("amount", ""), ("-amount", "")], required=False
    )

    def __init__(self, *args, currencies=CURRENCY_CODES, **kwargs):
        """`currencies`: the casino's own (a platform superuser sees every currency)."""
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [("", "—"), *((c, c) for c in currencies)]

    def clean(self):
        data = super().clean()
        texts = {name: data.get(name) for name in ("min_amount", "max_amount")}
        try:
            bounds = selectors.amount_bounds(data.get("currency", ""), **texts)
        except ValidationFailed as refusal:
            for name, errors in refusal.fields["errors"].items():
                self.add_error(name, errors)
            return data
        data.update({name: bounds.get(name) for name in texts})
        return data

    def to_filter(self, tenant_zone) -> selectors.QueueFilter:
        data = self.cleaned_data
        return selectors.QueueFilter(
            states=tuple(data.get("state") or ()),
            player=data.get("player") or "",
            currency=data.get("currency") or "",
            min_amount=data.get("min_amount"),
            max_amount=data.get("max_amount"),
            created_after=days.start_of(data.get("created_after"), tenant_zone),
            created_before=days.end_of(data.get("created_before"), tenant_zone),
            awaiting_second_approval=True if data.get("awaiting_second_approval") else None,
            flags=tuple(data.get("flag") or ()),
            ordering=data.get("ordering") or "created_at",
        )


@operator_view()
@replica.reads  # a list: a few seconds stale at most; the withdrawal page and decisions read the primary
def queue(request):
    tenant = request.operator.tenant
    form = QueueFilterForm(request.GET or None, currencies=tenant.allowed_currencies if tenant else CURRENCY_CODES)
    zone = tenant.zone if tenant else UTC
    if form.is_bound and form.is_valid():
        rows, counts = selectors.withdrawal_queue(request.operator, form.to_filter(zone))
    else:
        rows, counts = selectors.withdrawal_queue(request.operator, selectors.QueueFilter(states=("requested",)))
        if form.is_bound:
            rows = rows.none()
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "console/queue.html",
        {
            "form": form,
            "page": page,
            "counts": [(value, label, counts.get(value, 0)) for value, label in WithdrawalState.choices],
            "query": query.urlencode(),
            "sla_seconds": SLA_SECONDS,
        },
    )


@operator_view()
def withdrawal_detail(request, withdrawal_id):
    withdrawal = selectors.find_withdrawal(request.operator, withdrawal_id)
    if withdrawal is None:
        raise Http404
    actions, notes = decisions.offered(withdrawal, request.operator)
    return render(
        request,
        "console/withdrawal.html",
        {
            "w": withdrawal,
            "snap": selectors.snapshot(withdrawal),
            "actions": actions,
            "notes": notes,
            "player": player_context(withdrawal.player, exclude=withdrawal),
            "destination": destination(withdrawal),
            "sla_seconds": SLA_SECONDS,
        },
    )


@require_POST
@operator_view()
def confirm_decision(request, withdrawal_id, decision):
    """Step two: check the reason, show what will happen, issue the one-time token."""
    withdrawal, chosen = _target(request, withdrawal_id, decision)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Give a reason for this decision. Nothing was changed."))
        return redirect("console:withdrawal", withdrawal_id=withdrawal.pk)
    token = tokens.issue(request.user, _purpose(decision, withdrawal))
    return render(
        request,
        "console/confirm.html",
        {"w": withdrawal, "decision": decision, "label": chosen.label, "reason": reason, "token": token},
    )


@require_POST
@operator_view()
def execute_decision(request, withdrawal_id, decision):
    """Step three: spend the token and act, in one transaction; then redirect."""
    withdrawal, chosen = _target(request, withdrawal_id, decision)
    token, purpose = request.POST.get("token", ""), _purpose(decision, withdrawal)
    with transaction.atomic():
        if not tokens.spend(request.user, token, purpose):
            messages.warning(request, _("This form was already submitted; it was not done twice."))
            return redirect("console:withdrawal", withdrawal_id=withdrawal.pk)
        try:
            chosen.act(withdrawal.pk, actor=Actor.operator(request.user), reason=request.POST.get("reason", ""))
        except DomainError as error:
            # The service rolled back its own change but keeps what it audits about a refusal
            # (payout.retry_refused), so commit that and give the token back for another try.
            tokens.release(request.user, token, purpose)
            messages.error(request, describe(error))
            return redirect("console:withdrawal", withdrawal_id=withdrawal.pk)
    messages.success(request, _done(chosen, selectors.find_withdrawal(request.operator, withdrawal.pk)))
    return redirect("console:withdrawal", withdrawal_id=withdrawal.pk)


def _done(chosen, now) -> str:
    """What the decision did, read back after it committed (an approval may be the first of two)."""
    if chosen.name == "approve" and now.state == WithdrawalState.REQUESTED:
        return _("Approval %(n)s of %(required)s recorded; a second finance operator must approve.") % {
            "n": now.approval_count,
            "required": now.approvals_required,
        }
    return _("%(action)s: done for %(reference)s.") % {"action": chosen.label, "reference": now.reference}


def _target(request, withdrawal_id, decision):
    """The withdrawal and decision, looked up first: another tenant's id is 404 for every role."""
    if decision not in decisions.DECISIONS:
        raise Http404
    withdrawal = selectors.find_withdrawal(request.operator, withdrawal_id)
    if withdrawal is None:
        raise Http404
    if not request.operator.can(FINANCE):
        raise PermissionDenied(_("Your role can read but not decide."))
    return withdrawal, decisions.DECISIONS[decision]


def _purpose(decision: str, withdrawal) -> str:
    return f"withdrawal.{decision}:{withdrawal.pk}"


@operator_view()
def transaction_snapshot(request, transaction_id):
    tx = selectors.find_transaction(request.operator, transaction_id)
    if tx is None:
        raise Http404
    detail_url = reverse("console:withdrawal", args=[tx.pk]) if tx.TX_TYPE == "withdrawal" else None
    return render(
        request, "console/snapshot.html", {"tx": tx, "snap": selectors.snapshot(tx), "detail_url": detail_url}
    )
