"""The GGR report page: a range of days, the table per day and currency, and its CSV export.

Every operator reads it (as the operator API's report); the range rules are
backoffice.ggr's, so a refused range reads the same here and in the API.
"""

from datetime import timedelta

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from backoffice import ggr
from core import replica
from core.errors import ValidationFailed
from tenants.access import operator_view


@operator_view()
@replica.reads
def ggr_report(request):
    today = timezone.localdate()
    params = request.GET if "from" in request.GET or "to" in request.GET else None
    context = {
        "date_from": (today - timedelta(days=6)).isoformat(),
        "date_to": today.isoformat(),
        "max_days": ggr.MAX_DAYS,
    }
    if params is None:
        params = {"from": context["date_from"], "to": context["date_to"]}
    context.update(date_from=params.get("from", ""), date_to=params.get("to", ""))
    try:
        days = ggr.parse_range(params)
    except ValidationFailed:
        return render(request, "console/ggr.html", {**context, "refused": True}, status=400)
    rows = ggr.ggr_report(request.operator, days)
    if request.GET.get("format") == "csv":
        answer = HttpResponse(ggr.as_csv(rows), content_type="text/csv; charset=utf-8")
        answer["Content-Disposition"] = f'attachment; filename="ggr-{days.first}-{days.last}.csv"'
        return answer
    totals: dict[str, dict] = {}
    for row in rows:
        total = totals.setdefault(row.currency, {"currency": row.currency, "bets": 0, "wins": 0, "rolled_back": 0})
        total["bets"] += row.bets
        total["wins"] += row.wins
        total["rolled_back"] += row.rolled_back
    for total in totals.values():
        total["ggr"] = total["bets"] - total["wins"] - total["rolled_back"]
    context.update(
        rows=rows, totals=[totals[c] for c in sorted(totals)], csv_query=f"from={days.first}&to={days.last}&format=csv"
    )
    return render(request, "console/ggr.html", context)
