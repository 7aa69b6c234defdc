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
from functools import lru_cache

from django.utils import dateformat, timezone
from django.utils.dates import MONTHS, MONTHS_AP, WEEKDAYS, WEEKDAYS_ABBR
from django.utils.translation import get_language, override

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
    format_string = english if english_reader else danish
    written = _pieces(format_string)
    if written is None or (type(value) is date and written[1]):
        return dateformat.format(value, format_string)  # as Django says it
    names = _names(get_language() or "da")
    return "".join(p if isinstance(p, str) else p(value, names)
                   for p in written[0])


# The format characters the styles use, each written as Django's
# ``dateformat`` writes it, with the names of months and weekdays looked up
# once per language: through ``dateformat``, a list of 50 rows spent most of
# its time on dates translating "dec." and finding a time zone no style
# prints.
_WRITERS = {
    "j": lambda v, names: str(v.day),
    "Y": lambda v, names: f"{v.year:04d}",
    "H": lambda v, names: f"{v.hour:02d}",
    "i": lambda v, names: f"{v.minute:02d}",
    "s": lambda v, names: f"{v.second:02d}",
    "D": lambda v, names: names["D"][v.weekday()],
    "l": lambda v, names: names["l"][v.weekday()],
    "N": lambda v, names: names["N"][v.month],
    "F": lambda v, names: names["F"][v.month],
}


@lru_cache(maxsize=16)
def _names(language: str) -> dict[str, dict[int, str]]:
    """The names ``dateformat`` writes for D, l, N and F, in ``language``."""
    with override(language):
        return {code: {n: str(name) for n, name in names.items()}
                for code, names in (("D", WEEKDAYS_ABBR), ("l", WEEKDAYS),
                                    ("N", MONTHS_AP), ("F", MONTHS))}


@lru_cache(maxsize=64)
def _pieces(format_string: str) -> tuple[tuple, bool] | None:
    """``format_string`` split as ``dateformat`` splits it: its texts and the
    writers of its characters, and whether it writes a time; None when it
    holds a character left to ``dateformat``."""
    pieces, clock = [], False
    for i, piece in enumerate(dateformat.re_formatchars.split(format_string)):
        if i % 2:
            if piece not in _WRITERS:
                return None
            pieces.append(_WRITERS[piece])
            clock = clock or piece in "His"
        elif piece:
            pieces.append(dateformat.re_escaped.sub(r"\1", piece))
    return tuple(pieces), clock


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
