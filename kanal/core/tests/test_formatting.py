"""Dates, times and counts in one style per language."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.template import Context, Template
from django.utils import dateformat, timezone, translation
from hypothesis import given, settings
from hypothesis.strategies import datetimes, just, sampled_from

from kanal.core.formatting import STYLES, readable, when

# 5 December 2026, 13:30 UTC is 14:30 in Copenhagen.
MOMENT = datetime(2026, 12, 5, 13, 30, tzinfo=UTC)


def test_danish_dates_are_lower_case_with_full_stops():
    with translation.override("da"):
        assert when(MOMENT) == "5. dec. 2026"
        assert when(MOMENT, "datetime") == "5. dec. 2026 14:30"
        assert when(MOMENT, "weekday_day_time") == "lør. 5. dec. 14:30"
        assert when(MOMENT, "full") == "lørdag 5. december 2026 kl. 14:30"
        assert when(date(2026, 5, 1), "date") == "1. maj 2026"
        assert when(None) == ""


def test_english_dates_have_no_danish_full_stops():
    with translation.override("en"):
        assert when(MOMENT) == "5 Dec 2026"
        assert when(MOMENT, "datetime") == "5 Dec 2026 14:30"
        assert when(MOMENT, "weekday_day_time") == "Sat 5 Dec 14:30"
        assert when(MOMENT, "full") == "Saturday 5 December 2026, 14:30"


def test_stored_moments_read_in_danish_time_and_statuses_by_label():
    stored = ["2026-12-05T13:30:00+00:00", "2026-12-05T15:00:00Z"]
    with translation.override("da"):
        assert readable(stored) == "5. dec. 2026 14:30:00 → 5. dec. 2026 16:00:00"
        assert readable(["draft", "queued"], {"queued": "Planlagt"}) == (
            "draft → Planlagt"
        )
        assert readable(None) == "–"


def test_counts_are_grouped_per_language():
    page = Template("{% load humanize %}{{ n|intcomma }}")
    with translation.override("da"):
        assert page.render(Context({"n": 63206})) == "63.206"
    with translation.override("en"):
        assert page.render(Context({"n": 63206})) == "63,206"


@settings(max_examples=300, deadline=None)
@given(moment=datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1),
                        timezones=just(UTC)),
       style=sampled_from(sorted(STYLES)), language=sampled_from(["da", "en"]))
def test_every_style_writes_what_django_s_date_format_writes(moment, style, language):
    """``when`` writes its styles itself (a list page's dates cost a tenth
    of the page through ``dateformat``); the text is Django's, to the
    letter, in Copenhagen time across daylight saving, in both languages."""
    with translation.override(language):
        expected = dateformat.format(timezone.localtime(moment),
                                     STYLES[style][language == "en"])
        assert when(moment, style) == expected
        day = moment.date()
        if not any(c in STYLES[style][language == "en"] for c in "His"):
            assert when(day, style) == dateformat.format(
                day, STYLES[style][language == "en"])
