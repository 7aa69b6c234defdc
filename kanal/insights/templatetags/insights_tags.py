from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kanal.core.formatting import when

register = template.Library()


def display(value, kind: str) -> str:
    """One cell as people read it, in the active language's number and date
    style; no value is "ingen data", never 0."""
    if value is None or value == "":
        return _("ingen data") if kind != "text" else ""
    if kind == "number":
        return number_format(value, force_grouping=True)
    if kind == "percent":
        return f"{number_format(value, 1, force_grouping=True)} %"
    if kind == "change":
        sign = "+" if value > 0 else ""
        return f"{sign}{number_format(value, 1, force_grouping=True)} %"
    if kind == "datetime" and isinstance(value, datetime):
        return when(value, "datetime")
    if kind in ("date", "datetime") and isinstance(value, date):
        return when(value, "date")
    return str(value)


@register.filter
def cell(value, column) -> str:
    return display(value, column.kind)
