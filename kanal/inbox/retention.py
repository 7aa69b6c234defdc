"""The inbox's primitives for removing a citizen's personal data.

When that happens is not decided here: the records app is the one home for
retention and legal holds (``kanal.records.retention``). Its deletion job
redacts inbox items past the organisation's period (``retention_days``) and
its erasure action redacts a person's items, both skipping what a legal hold
in the record covers. The inbox only says how long it keeps personal data and
how an item is redacted.

What is removed: the text (and every kept version of it), the author's name
and id, the link, and the personal-data flags, and a message conversation's
key (``dm:<the citizen's id>``) once none of its items holds personal data;
what stays is that an item existed, when, on which channel, and what the
desk did (status, answers, audit). Raw webhook bodies are dropped when
processed (``intake``); a failed one is deleted after ``RETENTION_MIN_DAYS``
(``forget_deliveries``) and blanked by an erasure that names its citizen
(``erase_deliveries``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat

from kanal.organisations.models import Organisation

from .models import (
    RETENTION_MAX_DAYS,
    RETENTION_MIN_DAYS,
    Conversation,
    DeliveryStatus,
    InboxItem,
    InboxSettings,
    ItemVersion,
    WebhookDelivery,
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
    # A message conversation is keyed by the citizen's id: once none of its
    # items holds personal data, its key no longer names them (and a new
    # message from them starts a conversation of its own).
    Conversation.objects.filter(
        key__startswith="dm:", items__pk__in=ids
    ).exclude(items__redacted_at__isnull=True).update(
        key=Concat(Value("redacted:"), Cast("pk", CharField())))


def forget_deliveries(*, now: datetime, organisation=None, dry_run=False) -> int:
    """Delete the raw webhook bodies Kanal kept for the operator (failed
    ones; processed ones are emptied at once) older than the shortest inbox
    period; returns how many (with ``dry_run``: would be)."""
    kept = WebhookDelivery.objects.exclude(status=DeliveryStatus.PENDING).filter(
        received_at__lt=now - timedelta(days=RETENTION_MIN_DAYS))
    if organisation is not None:
        kept = kept.filter(organisation=organisation)
    if dry_run:
        return kept.count()
    return kept.delete()[0]


def erase_deliveries(person: str, *, organisation) -> int:
    """Blank the kept raw webhook bodies (of ``organisation``, or of no
    organisation named) that mention ``person`` as written or as JSON
    escapes it; returns how many."""
    spellings = {person, json.dumps(person)[1:-1]}
    match = Q()
    for spelling in spellings:
        match |= Q(body__icontains=spelling)
    return WebhookDelivery.objects.exclude(status=DeliveryStatus.PENDING).filter(
        Q(organisation=organisation) | Q(organisation__isnull=True)
    ).filter(match).update(body="")
