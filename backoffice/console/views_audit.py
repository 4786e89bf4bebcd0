"""The audit browser: filters, newest first, "older" pages by keyset."""

from datetime import UTC

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from backoffice import selectors
from core import days, replica
from tenants.access import operator_view

PAGE = 50


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=gettext_lazy("Action"), required=False, max_length=64)
    actor_type = forms.ChoiceField(
        label=gettext_lazy("Actor"),
        required=False,
        choices=[("", "—"), ("operator", "operator"), ("player", "player"), ("psp", "psp"), ("system", "system")],
    )
    actor = forms.CharField(label=gettext_lazy("Who"), required=False, max_length=150)
    target_id = forms.CharField(label=gettext_lazy("Object id"), required=False, max_length=64)
    day_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    day_until = forms.DateField(
        label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


@operator_view()
@replica.reads
def audit(request):
    form = AuditFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    zone = request.operator.tenant.zone if request.operator.tenant else UTC

    filters = selectors.AuditFilter(
        action=data.get("action", ""),
        actor_type=data.get("actor_type", ""),
        actor=data.get("actor", ""),
        target_id=data.get("target_id", ""),
        created_after=days.start_of(data.get("day_from"), zone),
        created_before=days.end_of(data.get("day_until"), zone),
    )
    rows = list(selectors.audit_events(request.operator, filters, before_id=data.get("before"))[: PAGE + 1])
    older = None
    if len(rows) > PAGE:
        query = request.GET.copy()
        query["before"] = rows[PAGE - 1].id
        older = query.urlencode()
    return render(request, "console/audit.html", {"form": form, "events": rows[:PAGE], "older": older})
