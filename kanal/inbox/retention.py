"""The inbox's primitives for removing a citizen's personal data.

When that happens is not decided here: the records app is the one home for
retention and legal holds (``kanal.records.retention``). Its deletion job
redacts inbox items past the organisation's period (``retention_days``) and
its erasure action redacts a person's items, both skipping what a legal hold
in the record covers. The inbox only says how long it keeps personal data and
how an item is redacted.

What is removed: the text (and every kept version of it), the author's name
and id, the link, and the personal-data flags; what stays is that an item
existed, when, on which channel, and what the desk did (status, answers,
audit).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from kanal.organisations.models import Organisation

from .models import (
    RETENTION_MAX_DAYS,
    RETENTION_MIN_DAYS,
    InboxItem,
    InboxSettings,
    ItemVersion,
)

DEFAULT_DAYS = 365


def retention_days(organisation: Organisation) -> int:
    """How many days the organisation keeps citizens' personal data; a period
    stored before its bounds were checked counts as the nearest bound (0 days
    would blank every comment, the unanswered ones of a minute ago too)."""
    row = InboxSettings.objects.filter(organisation=organisation).first()
    days = row.retention_days if row else DEFAULT_DAYS
    return min(max(days, RETENTION_MIN_DAYS), RETENTION_MAX_DAYS)


def unredacted(organisation: Organisation):
    """The organisation's items that still hold personal data."""
    return InboxItem.objects.filter(organisation=organisation,
                                    redacted_at__isnull=True)


def by_person(person: str) -> Q:
    """Items written by ``person`` (their name on the network or their id)."""
    return Q(author_name__iexact=person) | Q(author_id__iexact=person)


def redact_items(ids: list[int], *, now: datetime) -> None:
    """Remove the personal data of the items ``ids`` (and of every kept
    version of their text); what the desk did stays. Call it inside the
    transaction that chose ``ids``."""
    ItemVersion.objects.filter(item_id__in=ids).update(text="")
    InboxItem.objects.filter(pk__in=ids).update(
        text="", author_name="", author_id="", url="", personal_data=[],
        redacted_at=now,
    )
