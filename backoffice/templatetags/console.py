"""Template helpers for the console: money in the operator's language, ages, state badges."""

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from backoffice import labels
from core.money import display_money

register = template.Library()


@register.simple_tag
def money(minor, currency) -> str:
    """123456, "EUR" -> "1,234.56 EUR" (Turkish: "1.234,56 EUR"); blank for None."""
    return display_money(minor, currency)


@register.simple_tag
def signed_money(minor, currency) -> str:
    if minor is None:
        return ""
    return f"{'+' if minor > 0 else '−'}{display_money(abs(minor), currency)}"


WHEN_FORMAT = "j M Y, H:i:s"  # month names in the operator's language: "16 Jan 2026" / "16 Oca 2026"


@register.filter
def when(moment) -> str:
    """A moment in the operator's time zone (the casino's; UTC for platform staff), naming the zone:
    "16 Jan 2026, 00:30:00 CET". Every time the console shows goes through here."""
    if moment is None:
        return "—"
    local = timezone.localtime(moment)
    return f"{formats.date_format(local, WHEN_FORMAT)} {local.tzname()}"


@register.filter
def label(code, kind: str) -> str:
    """`{{ w.state|label:"state" }}`: a code as the operator reads it (backoffice.labels)."""
    return labels.label(kind, code)


@register.filter
def action_label(action: str) -> str:
    return labels.action_label(action)


@register.filter
def age(moment) -> str:
    """How long ago, compactly: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    seconds = int((timezone.now() - moment).total_seconds())
    if seconds < 60:
        return _("%(n)d s") % {"n": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(n)d min") % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours}


@register.filter
def late(moment, sla_seconds) -> bool:
    return (timezone.now() - moment).total_seconds() > int(sla_seconds)


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (for sorting and paging links)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


@register.filter
def finding_value(value) -> str:
    """A finding's expected/actual as an operator reads it: {"state": "paid", "n": 2} -> "state: paid, n: 2"."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {finding_value(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(finding_value(item) for item in value) or "—"
    return str(value)
