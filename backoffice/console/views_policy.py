"""The payment policy page: everyone reads it, admins change it, and loosening waits for a second admin.

A change that only tightens applies at once; one that loosens any control becomes a
pending change shown on this page, which another admin approves or rejects (the
requester may withdraw it). Every step goes through tenants.services and is audited.
"""

from django import forms
from django.contrib import messages
from django.forms import formset_factory
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from backoffice.templatetags.console import when
from core.actors import Actor
from core.errors import DomainError, describe
from core.money import AmountError, display_money, format_amount, parse_amount
from tenants.access import operator_view
from tenants.models import PaymentPolicy, PolicyChange, Tenant
from tenants.operators import ADMIN
from tenants.policy import CURRENCY_CONTROLS
from tenants.services import (
    LIMIT_FIELDS,
    approve_policy_change,
    change_payment_policy,
    policy_as_dict,
    reject_policy_change,
)

LABELS = {
    "daily_deposit_limit": gettext_lazy("Daily deposit limit"),
    "daily_withdraw_limit": gettext_lazy("Daily withdrawal limit"),
    "min_amount": gettext_lazy("Smallest amount"),
    "max_amount": gettext_lazy("Largest amount"),
    "four_eyes_amount": gettext_lazy("Two approvals from"),
    "kyc_deposit_threshold": gettext_lazy("KYC needed once deposits reach"),
    "auto_approve_below": gettext_lazy("Approve automatically below"),
}


POLICY_LABELS = {
    "payout_retry_limit": gettext_lazy("Payout attempts per withdrawal"),
    "payout_cooldown_seconds": gettext_lazy("Seconds between payout attempts"),
    "limit_increase_cooldown_hours": gettext_lazy("Hours before a player's higher limit applies"),
    "kyc_required_for_withdrawal": gettext_lazy("Withdrawals need verified identity (KYC)"),
    "player_cancel_allowed": gettext_lazy("Players may cancel a withdrawal (reverse withdrawals)"),
    "velocity_withdrawals_per_day": gettext_lazy("Withdrawal requests in 24 hours before a velocity flag"),
    "closed_loop": gettext_lazy("Closed loop: pay back to the methods that deposited"),
    "game_round_idle_minutes": gettext_lazy("Minutes without play before a game round closes"),
}
SWITCH_CONTROLS = ("kyc_required_for_withdrawal", "player_cancel_allowed", "closed_loop")
YES_NO = [("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))]


class PolicyForm(forms.Form):
    payout_retry_limit = forms.IntegerField(label=POLICY_LABELS["payout_retry_limit"], min_value=1, max_value=20)
    payout_cooldown_seconds = forms.IntegerField(
        label=POLICY_LABELS["payout_cooldown_seconds"], min_value=0, max_value=7 * 86400
    )
    # Not required: a control the form does not send keeps its value (as in the API).
    limit_increase_cooldown_hours = forms.IntegerField(
        label=POLICY_LABELS["limit_increase_cooldown_hours"], min_value=0, max_value=24 * 90, required=False
    )
    velocity_withdrawals_per_day = forms.IntegerField(
        label=POLICY_LABELS["velocity_withdrawals_per_day"], min_value=1, max_value=100, required=False
    )
    game_round_idle_minutes = forms.IntegerField(
        label=POLICY_LABELS["game_round_idle_minutes"], min_value=1, max_value=7 * 24 * 60, required=False
    )
    kyc_required_for_withdrawal = forms.ChoiceField(
        label=POLICY_LABELS["kyc_required_for_withdrawal"], choices=YES_NO, required=False
    )
    player_cancel_allowed = forms.ChoiceField(
        label=POLICY_LABELS["player_cancel_allowed"], choices=YES_NO, required=False
    )
    closed_loop = forms.ChoiceField(label=POLICY_LABELS["closed_loop"], choices=YES_NO, required=False)
    # Not required here: the service requires it only when something changes.
    reason = forms.CharField(label=gettext_lazy("Why the change"), max_length=500, required=False)

    def controls(self) -> dict:
        """The policy controls the form sent (switches as booleans)."""
        data = {}
        for name in POLICY_LABELS:
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            data[name] = value == "yes" if name in SWITCH_CONTROLS else value
        return data


class CurrencyLimitForm(forms.Form):
    currency = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in LIMIT_FIELDS:
            self.fields[name] = forms.CharField(label=LABELS[name], required=False, max_length=20)

    def minor_units(self) -> dict:
        currency = self.cleaned_data["currency"]
        row = {"currency": currency}
        for name in LIMIT_FIELDS:
            text = (self.cleaned_data.get(name) or "").strip()
            if not text:
                row[name] = None
            elif text in ("0", "0.00") and name.startswith("daily_"):
                row[name] = 0
            else:
                try:
                    row[name] = parse_amount(text, currency)
                except AmountError as error:
                    raise forms.ValidationError(f"{currency} {LABELS[name]}: {error}") from None
        return row


CurrencyLimitFormSet = formset_factory(CurrencyLimitForm, extra=0)


def _tenant(request) -> Tenant | None:
    if request.operator.tenant:
        return request.operator.tenant
    return Tenant.objects.filter(slug=request.GET.get("tenant", "")).first()


@operator_view()
def policy(request):
    tenant = _tenant(request)
    if tenant is None:
        return render(request, "console/policy_pick.html", {"tenants": Tenant.objects.all()})
    current = PaymentPolicy.objects.filter(tenant=tenant).first() or PaymentPolicy(tenant=tenant)
    plain = policy_as_dict(current)
    may_edit = request.operator.can(ADMIN)
    if request.method == "POST":
        if not may_edit:
            messages.error(request, _("Only admins may change the payment policy."))
            return redirect(request.get_full_path())
        form, limits = PolicyForm(request.POST), CurrencyLimitFormSet(request.POST, prefix="limits")
        if form.is_valid() and limits.is_valid():
            try:
                outcome = change_payment_policy(
                    tenant,
                    actor=Actor.operator(request.user),
                    currency_limits=[row.minor_units() for row in limits if row.cleaned_data],
                    reason=form.cleaned_data["reason"],
                    **form.controls(),
                )
            except forms.ValidationError as error:
                messages.error(request, " ".join(error.messages))
            except DomainError as error:
                messages.error(request, describe(error))
            else:
                if outcome.pending:
                    messages.info(
                        request,
                        _(
                            "Your change loosens a control, so it waits for another admin's approval "
                            "(until %(expires)s). The policy stays as it is until then."
                        )
                        % {"expires": when(outcome.change.expires_at)},
                    )
                else:
                    messages.success(request, _("The payment policy is saved."))
                return redirect(request.get_full_path())
    else:
        form = PolicyForm(
            initial={
                name: ("yes" if plain[name] else "no") if isinstance(plain[name], bool) else plain[name]
                for name in POLICY_LABELS
            }
        )
        by_currency = {row["currency"]: row for row in plain["currency_limits"]}
        initial = []
        for currency in tenant.allowed_currencies:
            row = by_currency.get(currency, {})
            initial.append(
                {
                    "currency": currency,
                    **{n: format_amount(row[n], currency) if row.get(n) is not None else "" for n in LIMIT_FIELDS},
                }
            )
        limits = CurrencyLimitFormSet(initial=initial, prefix="limits")
    changes = PolicyChange.objects.filter(tenant=tenant)
    pending = changes.filter(state=PolicyChange.State.PENDING_APPROVAL).first()
    return render(
        request,
        "console/policy.html",
        {
            "tenant": tenant,
            "form": form,
            "limits": limits,
            "may_edit": may_edit,
            "labels": LABELS,
            "pending": pending and _shown(pending),
            "own_request": pending is not None and pending.requested_by_id == request.user.pk,
            "history": [_shown(change) for change in changes.exclude(pk=getattr(pending, "pk", None))[:10]],
        },
    )


@require_POST
@operator_view()
def decide_policy_change(request, change_id, decision):
    """Approve or reject (withdraw) a pending change with a reason; then back to the policy page."""
    acts = {"approve": approve_policy_change, "reject": reject_policy_change}
    change = request.operator.filter(PolicyChange.objects.select_related("tenant")).filter(pk=change_id).first()
    if change is None or decision not in acts:
        raise Http404
    back = reverse("console:policy") + ("" if request.operator.tenant else f"?tenant={change.tenant.slug}")
    if not request.operator.can(ADMIN):
        messages.error(request, _("Only admins may change the payment policy."))
        return redirect(back)
    try:
        acts[decision](change, actor=Actor.operator(request.user), reason=request.POST.get("reason", ""))
    except DomainError as error:
        messages.error(request, describe(error))
    else:
        done = {
            "approve": _("Policy change #%(id)s is approved and applies now."),
            "reject": _("Policy change #%(id)s is rejected; the policy stays as it is."),
        }
        messages.success(request, done[decision] % {"id": change.pk})
    return redirect(back)


def _shown(change: PolicyChange) -> dict:
    """A change as the page shows it: labels, and amounts as money in the operator's language."""
    rows = []
    for row in change.changes:
        currency, field = row.get("currency"), row["field"]
        if currency and field in CURRENCY_CONTROLS:
            before, after = display_money(row.get("before"), currency), display_money(row.get("after"), currency)
        else:
            before, after = row.get("before"), row.get("after")
        rows.append(
            {
                "label": LABELS.get(field) if currency else POLICY_LABELS.get(field, field),
                "currency": currency or "",
                "before": before if before not in (None, "") else _("no limit"),
                "after": after if after not in (None, "") else _("no limit"),
            }
        )
    return {"change": change, "rows": rows}
