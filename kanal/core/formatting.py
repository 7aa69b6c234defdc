"""Dates and times as people read them, in one style per language.

Danish: "5. dec. 2026", "ons. 9. dec. 10:00", "5. december 2026", months and
weekdays in lower case, abbreviations with a full stop ("maj", "juni" and
"marts" are short already). English: "5 Dec 2026", "Wed 9 Dec 10:00",
"5 December 2026". Times are Copenhagen time in both.

Templates use ``{{ value|when:"style" }}`` (``{% load kanal_dates %}``); Python
uses ``when(value, "style")``.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import dateformat, timezone
from django.utils.translation import get_language

# style → (Danish, English), in Django's date format characters.
STYLES = {
    "date": ("j. N Y", "j M Y"),
    "datetime": ("j. N Y H:i", "j M Y H:i"),
    "seconds": ("j. N Y H:i:s", "j M Y H:i:s"),
    "day": ("j. N", "j M"),
    "day_time": ("j. N H:i", "j M H:i"),
    "weekday": ("D.", "D"),
    "weekday_number": ("D. j.", "D j"),
    "weekday_day": ("D. j. N", "D j M"),
    "weekday_day_time": ("D. j. N H:i", "D j M H:i"),
    "weekday_datetime": ("D. j. N Y H:i", "D j M Y H:i"),
    "long_day": ("j. F", "j F"),
    "long_day_time": ("j. F H:i", "j F H:i"),
    "long_date": ("j. F Y", "j F Y"),
    "long_datetime": ("j. F Y H:i", "j F Y H:i"),
    "full": (r"l j. F Y \k\l. H:i", "l j F Y, H:i"),
    "month": ("F Y", "F Y"),
}


def when(value: date | datetime | None, style: str = "date") -> str:
    """``value`` in ``style`` for the active language ("" for None)."""
    if value is None or value == "":
        return ""
    danish, english = STYLES[style]
    english_reader = (get_language() or "da").startswith("en")
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return dateformat.format(value, english if english_reader else danish)


def _parsed_moment(value: str) -> datetime | None:
    if len(value) < 19 or value[4:5] != "-" or value[10:11] not in ("T", " "):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else None


def readable(value, labels=None) -> str:
    """A stored value (JSON) as a person reads it: a moment in Danish time
    and the reader's style, a change of value as "before → after", a choice
    (a status) by its label in ``labels``."""
    labels = labels or {}
    if isinstance(value, str):
        if value in labels:
            return str(labels[value])
        moment = _parsed_moment(value)
        return when(moment, "seconds") if moment else value
    if isinstance(value, list):
        return " → ".join(readable(v, labels) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {readable(v, labels)}" for k, v in value.items())
    if value is None:
        return "–"
    return str(value)
