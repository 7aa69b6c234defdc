"""Reads for the sources pages."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.utils import timezone

from .models import ChannelTone, Suggestion, SuggestionStatus, Tone
from .parsers import LOCAL
from .policies import source_policy, suggestion_policy, tone_policy


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
    """Open suggestions as a calendar: ``weeks`` weeks from ``first_day``'s
    Monday, each ``(monday, [(day, [suggestions]) for days that have any])``."""
    monday = first_day - timedelta(days=first_day.weekday())
    last = monday + timedelta(days=7 * weeks)
    by_day: dict[date, list[Suggestion]] = defaultdict(list)
    for suggestion in open_suggestions(actor, source=source):
        day = suggestion.planned_at.astimezone(LOCAL).date()
        if monday <= day < last:
            by_day[day].append(suggestion)
    weeks_out = []
    for w in range(weeks):
        start = monday + timedelta(days=7 * w)
        days = [start + timedelta(days=d) for d in range(7)]
        weeks_out.append((start, [(day, by_day[day]) for day in days if by_day[day]]))
    return weeks_out


def recent_items(source, *, limit: int = 50):
    return source.items.order_by("-changed_at")[:limit]


def calendar_entries(actor, start, end):
    """Open suggestions from ``start`` up to ``end`` as entries of the
    planning calendar (``kanal.planning.overlays``), for those who may plan."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from kanal.planning.overlays import OverlayEntry
    from kanal.planning.selectors import NETWORK_SHORT

    from .policies import source_policy

    if not source_policy.can(actor, "list"):
        return []
    suggestions = open_suggestions(actor).filter(
        planned_at__gte=start, planned_at__lt=end
    ).select_related("item", "channel")
    return [
        OverlayEntry(
            at=s.planned_at,
            title=s.item.title or s.text[:60],
            url=reverse("sources:suggestion_edit", args=[s.pk]),
            kind="suggestion",
            label=_("Kildeforslag"),
            networks=(NETWORK_SHORT.get(s.channel.network, s.channel.network),),
        )
        for s in suggestions
    ]


def channel_tones(actor) -> list[tuple]:
    """``(channel, tone)`` for each of the actor's organisation's channels."""
    channels = list(tone_policy.visible(actor))
    tones = dict(
        ChannelTone.objects.filter(channel__in=channels).values_list(
            "channel_id", "tone"
        )
    )
    return [(c, tones.get(c.pk, Tone.FRIENDLY)) for c in channels]
