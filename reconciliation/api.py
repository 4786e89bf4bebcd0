"""Reconciliation in the operator API (/api/v1/admin/reconciliation/...)."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core import replica
from core.api import schema
from core.api.pagination import NumberedPageSerializer, numbered_page
from core.errors import ValidationFailed
from reconciliation import selectors, services
from reconciliation.models import Finding, FindingType, ReconciliationRun, Severity
from tenants.access import OPERATOR_READ_ERRORS, OperatorAPIView
from tenants.models import Tenant
from tenants.operators import FINANCE

RUN_ERRORS = schema.error_responses(400, 401, 403, 404, 405, 406, 409, 413, 415, 429, 500, 503)


class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tenant = serializers.SerializerMethodField()
    status = serializers.CharField()
    triggered_by = serializers.CharField()
    mode = serializers.ChoiceField(choices=ReconciliationRun.Mode.choices)
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    settlement_date = serializers.DateField(allow_null=True)
    findings_count = serializers.IntegerField()
    open_count = serializers.IntegerField()
    counts_by_type = serializers.DictField(child=serializers.IntegerField())
    counts_by_severity = serializers.DictField(child=serializers.IntegerField())
    error = serializers.CharField()

    def get_tenant(self, run) -> str | None:
        return run.tenant.slug if run.tenant_id else None


class RunRequestSerializer(serializers.Serializer):
    tenant = serializers.SlugField(required=False, help_text="Platform users: one tenant, or none for all.")
    settlement_date = serializers.DateField(required=False, help_text="Also compare the PSP's report of that day.")
    mode = serializers.ChoiceField(
        choices=ReconciliationRun.Mode.choices,
        default=ReconciliationRun.Mode.FULL,
        help_text="full: every row; incremental: only what changed since the last checkpoint (full if there is none).",
    )


class FindingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    run = serializers.IntegerField(source="run_id")
    tenant = serializers.IntegerField(source="tenant_id", allow_null=True)
    type = serializers.ChoiceField(choices=FindingType.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    expected = serializers.JSONField(allow_null=True)
    actual = serializers.JSONField(allow_null=True)
    detail = serializers.JSONField()
    status = serializers.ChoiceField(choices=Finding.Status.choices)
    note = serializers.CharField()
    acted_by = serializers.CharField(source="acted_by_label")
    acted_at = serializers.DateTimeField(allow_null=True)
    first_seen_at = serializers.DateTimeField()


class FindingPageSerializer(NumberedPageSerializer):
    results = FindingSerializer(many=True)


class SummarySerializer(serializers.Serializer):
    running = RunSerializer(allow_null=True)
    latest = RunSerializer(allow_null=True)
    last_succeeded = RunSerializer(allow_null=True)
    by_type = serializers.DictField(child=serializers.IntegerField())
    by_severity = serializers.DictField(child=serializers.IntegerField())
    by_status = serializers.DictField(child=serializers.IntegerField())
    oldest_open_since = serializers.DateTimeField(allow_null=True)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


def _tenant_id(scope) -> int | None:
    return None if scope.is_platform else scope.tenant.pk


class RunListView(OperatorAPIView):
    @extend_schema(
        operation_id="admin_reconciliation_runs_create",
        summary="Start a reconciliation run now",
        description=(
            "Checks the operator's tenant (platform users: a tenant, or all) on one consistent snapshot. "
            "A run over the same books already running is 409 RECONCILIATION_RUN_IN_PROGRESS."
        ),
        request=RunRequestSerializer,
        responses={201: RunSerializer, **RUN_ERRORS},
        tags=["operator"],
    )
    def post(self, request):
        self.scope.require(FINANCE, "start reconciliation runs")
        payload = RunRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        tenant = self.scope.tenant
        if self.scope.is_platform and payload.validated_data.get("tenant"):
            tenant = Tenant.objects.filter(slug=payload.validated_data["tenant"]).first()
            if tenant is None:
                raise ValidationFailed("No such tenant.", errors={"tenant": ["Unknown tenant."]})
        run = services.run_reconciliation(
            tenant,
            actor=self.actor(),
            triggered_by=ReconciliationRun.Trigger.API,
            settlement_date=payload.validated_data.get("settlement_date"),
            mode=payload.validated_data["mode"],
        )
        return Response(RunSerializer(run).data, status=201)


class SummaryView(OperatorAPIView):
    @extend_schema(
        operation_id="admin_reconciliation_summary",
        summary="The last run over these books and what it left open",
        responses={200: SummarySerializer, **schema.error_responses(*OPERATOR_READ_ERRORS)},
        tags=["operator"],
    )
    @replica.reads
    def get(self, request):
        return Response(SummarySerializer(selectors.summary(_tenant_id(self.scope))).data)


class FindingListView(OperatorAPIView):
    @extend_schema(
        operation_id="admin_reconciliation_findings_list",
        summary="The findings of one run",
        parameters=[
            OpenApiParameter("status", str, enum=Finding.Status.values),
            OpenApiParameter("type", str, enum=FindingType.values),
            OpenApiParameter("severity", str, enum=Severity.values),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="1 to 200, default 50."),
        ],
        responses={200: FindingPageSerializer, **schema.error_responses(*OPERATOR_READ_ERRORS)},
        tags=["operator"],
    )
    @replica.reads
    def get(self, request, run_id):
        run = selectors.runs_covering(_tenant_id(self.scope)).filter(pk=_int(run_id)).first()
        if run is None:
            raise Http404
        params = request.query_params
        filters = {}
        for name, allowed in (
            ("status", Finding.Status.values),
            ("type", FindingType.values),
            ("severity", Severity.values),
        ):
            value = params.get(name, "")
            if value and value not in allowed:
                raise ValidationFailed(f"Unknown {name} {value!r}.", errors={name: [f"One of: {', '.join(allowed)}."]})
            filters[name] = value
        findings = selectors.findings_of(run, _tenant_id(self.scope), **filters)
        size = _bounded(params.get("page_size"), "page_size", 1, 200, 50)
        page = _bounded(params.get("page"), "page", 1, 100_000, 1)
        return Response(numbered_page(findings, page, size, FindingSerializer))


def _finding_act(name: str, act, summary: str):
    class View(OperatorAPIView):
        @extend_schema(
            operation_id=f"admin_reconciliation_findings_{name}",
            summary=summary,
            request=NoteSerializer,
            responses={200: FindingSerializer, **RUN_ERRORS},
            tags=["operator"],
        )
        def post(self, request, finding_id):
            # Not found before forbidden before a missing note: another tenant's id is 404 for every role.
            if not self.scope.filter(Finding.objects.filter(pk=_int(finding_id))).exists():
                raise Http404
            self.scope.require(FINANCE, "act on reconciliation findings")
            payload = NoteSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            finding = act(_int(finding_id), actor=self.actor(), note=payload.validated_data["note"])
            return Response(FindingSerializer(finding).data)

    View.__name__ = View.__qualname__ = f"Finding{name.title()}View"
    return View


AcknowledgeView = _finding_act("acknowledge", services.acknowledge_finding, "Acknowledge a finding (someone is on it)")
ResolveView = _finding_act("resolve", services.resolve_finding, "Resolve a finding with a note on how")


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def _bounded(text, name: str, low: int, high: int, default: int) -> int:
    if text in (None, ""):
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ValidationFailed(f"{name} must be a whole number from {low} to {high}.", errors={name: ["Out of range."]})
    return value
