"""Reports in the operator API: GGR per day and currency (/api/v1/admin/reports/ggr/)."""

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from backoffice import ggr
from core import replica
from core.api import schema
from tenants.access import OPERATOR_READ_ERRORS, OperatorAPIView


class CsvRenderer(BaseRenderer):
    """Lets `?format=csv` through DRF's content negotiation; the view answers the CSV itself.
    Errors (problem+json) still render as JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data, accepted_media_type, renderer_context)


class GgrDaySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="A day in the casino's time zone (UTC for platform staff).")
    currency = serializers.CharField()
    bets = serializers.CharField(help_text="Applied bets, decimal string.")
    wins = serializers.CharField()
    rolled_back = serializers.CharField(help_text="Bets given back by rollbacks.")
    ggr = serializers.CharField(help_text="bets − wins − rolled_back (negative when players won).")
    bet_count = serializers.IntegerField()
    win_count = serializers.IntegerField()
    rollback_count = serializers.IntegerField()


class GgrReportSerializer(serializers.Serializer):
    # Dates as YYYY-MM-DD strings: "from" is a Python keyword, so the fields are named in the view.
    results = GgrDaySerializer(many=True)


class GgrReportView(OperatorAPIView):
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        operation_id="admin_reports_ggr",
        summary="GGR (bets − wins − rolled-back bets) per day and currency",
        description=(
            "Applied game transactions only, days in the casino's time zone (every casino's in UTC for "
            "platform staff), both ends included, at most 366 days. Missing, malformed or reversed dates: "
            "400 VALIDATION_ERROR naming the field. `format=csv` answers text/csv with the columns "
            + ", ".join(ggr.CSV_COLUMNS)
            + "."
        ),
        parameters=[
            OpenApiParameter("from", str, required=True, description="First day, YYYY-MM-DD."),
            OpenApiParameter("to", str, required=True, description="Last day, YYYY-MM-DD (included)."),
            OpenApiParameter("format", str, enum=["json", "csv"]),
        ],
        responses={
            200: OpenApiResponse(GgrReportSerializer, description="`from`, `to` and `results`."),
            **schema.error_responses(*OPERATOR_READ_ERRORS),
        },
        tags=["operator"],
    )
    @replica.reads
    def get(self, request):
        days = ggr.parse_range(request.query_params)
        rows = ggr.ggr_report(request.operator, days)
        if request.accepted_renderer.format == "csv":
            answer = HttpResponse(ggr.as_csv(rows), content_type="text/csv; charset=utf-8")
            answer["Content-Disposition"] = f'attachment; filename="ggr-{days.first}-{days.last}.csv"'
            return answer
        return Response(
            {"from": days.first.isoformat(), "to": days.last.isoformat(), "results": [ggr.as_row(r) for r in rows]}
        )
