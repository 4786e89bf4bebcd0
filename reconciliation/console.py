"""The reconciliation page of the console: last run, counts, findings, acknowledge and resolve."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import replica
from core.actors import Actor
from core.errors import DomainError, describe
from core.ids import whole_number
from reconciliation import selectors, services
from reconciliation.models import Finding, FindingType, ReconciliationRun, Severity
from tenants.access import operator_view
from tenants.operators import FINANCE


def _tenant_id(request):
    return None if request.operator.is_platform else request.operator.tenant.pk


@operator_view()
@replica.reads
def overview(request):
    tenant_id = _tenant_id(request)
    summary = selectors.summary(tenant_id)
    run = summary["last_succeeded"]
    runs = selectors.runs_covering(tenant_id)
    run_id = whole_number(request.GET.get("run", ""))
    if run_id is not None:
        run = runs.filter(pk=run_id).first() or run
    if run is not None and run != summary["last_succeeded"]:
        summary = {**summary, **selectors.counts_of(run, tenant_id)}  # the counts are those of the run shown
    filters = {name: request.GET.get(name, "") for name in ("status", "type", "severity")}
    findings = selectors.findings_of(run, tenant_id, **filters) if run else Finding.objects.none()
    page = Paginator(findings, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()  # the pages keep the run and the filters
    query.pop("page", None)
    if run is not None:
        query["run"] = run.pk
    return render(
        request,
        "console/reconciliation.html",
        {
            "summary": summary,
            "run": run,
            "recent_runs": selectors.as_seen_by(runs[:10], tenant_id),
            "page": page,
            "query": query.urlencode(),
            "filters": filters,
            "types": FindingType.choices,
            "severities": Severity.choices,
            "statuses": Finding.Status.choices,
            "modes": ReconciliationRun.Mode.choices,
            "may_act": request.operator.can(FINANCE),
        },
    )


@require_POST
@operator_view(role=FINANCE)
def start_run(request):
    try:
        run = services.run_reconciliation(
            request.operator.tenant,
            actor=Actor.operator(request.user),
            triggered_by=ReconciliationRun.Trigger.CONSOLE,
            mode=request.POST.get("mode") or ReconciliationRun.Mode.FULL,
        )
    except DomainError as error:
        messages.error(request, describe(error))
    else:
        messages.success(
            request,
            _("Reconciliation run #%(id)s (%(mode)s): %(n)s findings.")
            % {"id": run.pk, "mode": run.get_mode_display(), "n": run.findings_count},
        )
    return redirect("console:reconciliation")


@require_POST
@operator_view()
def act_on_finding(request, finding_id, act):
    service = {"acknowledge": services.acknowledge_finding, "resolve": services.resolve_finding}.get(act)
    pk = whole_number(finding_id)
    if service is None or pk is None:
        raise Http404
    # Not found before forbidden: another tenant's finding is 404 for every role.
    if not request.operator.filter(Finding.objects.filter(pk=pk)).exists():
        raise Http404
    if not request.operator.can(FINANCE):
        raise PermissionDenied(f"Your role ({request.operator.role}) may not do this.")
    try:
        finding = service(pk, actor=Actor.operator(request.user), note=request.POST.get("note", ""))
    except DomainError as error:
        messages.error(request, describe(error))
    else:
        messages.success(
            request,
            _("Finding #%(id)s is now %(status)s.") % {"id": finding.pk, "status": finding.get_status_display()},
        )
    back = request.POST.get("back", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "console:reconciliation"
    return redirect(back)
