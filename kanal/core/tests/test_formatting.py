"""Dates, times and counts in one style per language."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.template import Context, Template
from django.utils import translation

from kanal.core.formatting import readable, when

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
