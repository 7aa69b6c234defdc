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
    a bar and the number of its ground.

    Every occurrence of every passage is found in the original text first
    and overlapping ones become one bar (with each of their numbers), so a
    shorter passage blacked out first never leaves the rest of a longer or
    overlapping one ("Mette" and "Mette Hansen") in clear.
    """
    spans: list[tuple[int, int, int]] = []
    for number, redaction in enumerate(redactions, start=1):
        passage = redaction.get("text") or ""
        if not passage:
            continue
        start = text.find(passage)
        while start != -1:
            spans.append((start, start + len(passage), number))
            start = text.find(passage, start + 1)
    if not spans:
        return text
    merged: list[list] = []
    for start, end, number in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2].add(number)
        else:
            merged.append([start, end, {number}])
    parts, position = [], 0
    for start, end, numbers in merged:
        label = ", ".join(str(n) for n in sorted(numbers))
        parts += [text[position:start], f"[█████ overstreget ({label})]"]
        position = end
    parts.append(text[position:])
    return "".join(parts)


#: Values handed out as they are, whatever is redacted: a media file's
#: checksum (the archive finds the file by it), not anything anyone wrote.
UNREDACTED_KEYS = frozenset({"sha256"})


def redacted_content(value, redactions):
    """``value`` (an entry's content) with every redacted passage blacked out
    in every text in it, at any depth: the text, and also the author's name
    and id, links and addresses (which on several networks carry the user
    name), a media item's name and alternative text."""
    if isinstance(value, str):
        return redacted_text(value, redactions)
    if isinstance(value, dict):
        return {key: item if key in UNREDACTED_KEYS
                else redacted_content(item, redactions)
                for key, item in value.items()}
    if isinstance(value, list):
        return [redacted_content(item, redactions) for item in value]
    return value


def requester_texts(entry: RecordEntry):
    """Every text of ``entry`` that the requester would get, where a passage
    may be redacted."""
    yield entry.text
    yield entry.permalink

    def walk(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for key, item in value.items():
                if key not in UNREDACTED_KEYS:
                    yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    yield from walk(entry.content)
