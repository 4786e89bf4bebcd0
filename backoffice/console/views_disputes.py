"""Chargebacks and receivables (section 16): what the PSP took back, and who owes the casino for it."""

from datetime import UTC

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from backoffice import disputes
from backoffice.labels import LABELS
from core import days, replica
from core.money import CURRENCY_CODES
from tenants.access import operator_view

PAGE = 50


class DisputeFilterForm(forms.Form):
    state = forms.MultipleChoiceField(
        label=gettext_lazy("State"),
        choices=[(state, LABELS["state"][state]) for state in disputes.DISPUTED],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    currency = forms.ChoiceField(label=gettext_lazy("Currency"), required=False)
    player = forms.CharField(label=gettext_lazy("Player"), required=False, max_length=150)
    day_from = forms.DateField(
        label=gettext_lazy("Disputed from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    day_until = forms.DateField(
        label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, currencies=CURRENCY_CODES, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [("", "—"), *((c, c) for c in currencies)]

    def to_filter(self, zone) -> disputes.DisputeFilter:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}

        return disputes.DisputeFilter(
            states=tuple(data.get("state") or ()),
            currency=data.get("currency") or "",
            player=data.get("player") or "",
            disputed_after=days.start_of(data.get("day_from"), zone),
            disputed_before=days.end_of(data.get("day_until"), zone),
        )


@operator_view()
@replica.reads  # lists; acting on a player happens on their page, which reads the primary
def disputes_page(request):
    tenant = request.operator.tenant
    form = DisputeFilterForm(request.GET or None, currencies=tenant.allowed_currencies if tenant else CURRENCY_CODES)
    filters = form.to_filter(tenant.zone if tenant else UTC)
    page = Paginator(disputes.chargebacks(request.operator, filters), PAGE).get_page(request.GET.get("page"))
    owed = disputes.receivables(request.operator, filters)[:PAGE]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "console/disputes.html",
        {"form": form, "page": page, "receivables": owed, "query": query.urlencode()},
    )
