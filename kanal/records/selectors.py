"""Reads of the record for the pages and the export."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections
from django.db.models import Q, QuerySet

from . import search as literal
from .models import AccessRequest, AccessRequestItem, RecordEntry


def local_day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """From the start of ``start`` to the start of the day after ``end``, in
    the organisation's time zone (Copenhagen), as aware datetimes."""
    zone = ZoneInfo(settings.TIME_ZONE)
    return (
        datetime.combine(start, time(0), tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone),
    )


def search(
    *,
    organisation,
    period_start: date,
    period_end: date,
    channels=(),
    administrations=(),
    words=(),
    persons=(),
) -> QuerySet[RecordEntry]:
    """Every version in the record that an access request covers.

    Words are matched literally in the case-folded text, so case is
    ignored for every letter (æ, ø, å too): ``<b>`` or ``.*`` are looked for
    as those characters (``kanal.records.search``: a trigram index on both
    databases).
    """
    begin, end = local_day_bounds(period_start, period_end)
    qs = RecordEntry.objects.filter(
        organisation=organisation, occurred_at__gte=begin, occurred_at__lt=end
    )
    channels = list(channels)
    if channels:
        qs = qs.filter(channel__in=channels)
    administrations = list(administrations)
    if administrations:
        qs = qs.filter(administration__in=administrations)
    words_q = Q()
    vendor = connections[qs.db].vendor
    for word in words:
        words_q |= literal.word_filter(word, vendor)
    if words_q:
        qs = qs.filter(words_q)
    persons_q = Q()
    for person in persons:
        persons_q |= Q(person__iexact=person)
    if persons_q:
        qs = qs.filter(persons_q)
    return qs.order_by("occurred_at", "pk")


def items_of(request: AccessRequest) -> QuerySet[AccessRequestItem]:
    return request.items.select_related(
        "entry", "entry__channel", "entry__administration"
    ).order_by("entry__occurred_at", "entry__pk")


def redacted_text(text: str, redactions) -> str:
    """``text`` as the requester gets it: each redacted passage replaced by
    a bar and the number of its ground."""
    for number, redaction in enumerate(redactions, start=1):
        passage = redaction.get("text") or ""
        if passage:
            text = text.replace(passage, f"[█████ overstreget ({number})]")
    return text
