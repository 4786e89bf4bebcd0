"""The payment policy page: everyone reads it, admins change it (audited before and after)."""

from django import forms
from django.contrib import messages
from django.forms import formset_factory
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.actors import Actor
from core.errors import DomainError, describe
from core.money import AmountError, format_amount, parse_amount
from tenants.access import operator_view
from tenants.models import PaymentPolicy, Tenant
from tenants.operators import ADMIN
from tenants.services import LIMIT_FIELDS, policy_as_dict, update_payment_policy

LABELS = {
    "daily_deposit_limit": gettext_lazy("Daily deposit limit"),
    "daily_withdraw_limit": gettext_lazy("Daily withdrawal limit"),
    "min_amount": gettext_lazy("Smallest amount"),
    "max_amount": gettext_lazy("Largest amount"),
    "four_eyes_amount": gettext_lazy("Two approvals from"),
}


class PolicyForm(forms.Form):
    payout_retry_limit = forms.IntegerField(
        label=gettext_lazy("Payout attempts per withdrawal"), min_value=1, max_value=20
    )
    payout_cooldown_seconds = forms.IntegerField(
        label=gettext_lazy("Seconds between payout attempts"), min_value=0, max_value=7 * 86400
    )
    # Not required here: the service requires it only when something changes.
    reason = forms.CharField(label=gettext_lazy("Why the change"), max_length=500, required=False)


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
                update_payment_policy(
                    tenant,
                    actor=Actor.operator(request.user),
                    payout_retry_limit=form.cleaned_data["payout_retry_limit"],
                    payout_cooldown_seconds=form.cleaned_data["payout_cooldown_seconds"],
                    currency_limits=[row.minor_units() for row in limits if row.cleaned_data],
                    reason=form.cleaned_data["reason"],
                )
            except forms.ValidationError as error:
                messages.error(request, " ".join(error.messages))
            except DomainError as error:
                messages.error(request, describe(error))
            else:
                messages.success(request, _("The payment policy is saved."))
                return redirect(request.get_full_path())
    else:
        form = PolicyForm(initial={k: plain[k] for k in ("payout_retry_limit", "payout_cooldown_seconds")})
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
    return render(
        request,
        "console/policy.html",
        {"tenant": tenant, "form": form, "limits": limits, "may_edit": may_edit, "labels": LABELS},
    )
