"""Reads for the sources pages."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.utils import timezone

from .models import Suggestion, SuggestionStatus
from .parsers import LOCAL
from .policies import source_policy, suggestion_policy


def sources_for(actor):
    return source_policy.visible(actor).prefetch_related("default_channels")


def open_suggestions(actor, *, source=None):
    qs = suggestion_policy.visible(actor).filter(
        status=SuggestionStatus.OPEN, planned_at__gt=timezone.now()
    )
    if source is not None:
        qs = qs.filter(item__source=source)
    return qs.order_by("planned_at", "pk")


def suggestion_weeks(actor, *, first_day: date, weeks: int = 4, source=None):
    """Open suggestions as a calendar: a list of weeks, each seven days
    (Monday first) of ``(day, [suggestions])``."""
    monday = first_day - timedelta(days=first_day.weekday())
    last = monday + timedelta(days=7 * weeks)
    by_day: dict[date, list[Suggestion]] = defaultdict(list)
    for suggestion in open_suggestions(actor, source=source):
        day = suggestion.planned_at.astimezone(LOCAL).date()
        if monday <= day < last:
            by_day[day].append(suggestion)
    return [
        [
            (
                monday + timedelta(days=7 * w + d),
                by_day[monday + timedelta(days=7 * w + d)],
            )
            for d in range(7)
        ]
        for w in range(weeks)
    ]


def recent_items(source, *, limit: int = 50):
    return source.items.order_by("-changed_at")[:limit]
