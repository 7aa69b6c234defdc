"""Retention: citizens' personal data is removed after the organisation's
period, unless the item is on legal hold.

What is removed: the text (and every kept version of it), the author's name
and id, the link, and the personal-data flags; what stays is that an item
existed, when, on which channel, and what the desk did (status, answers,
audit). One audit entry per organisation says how many were removed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kanal.core import audit
from kanal.organisations.models import Organisation

from .models import InboxItem, InboxSettings, ItemVersion

DEFAULT_DAYS = 365


def due_items(organisation: Organisation, now: datetime):
    row = InboxSettings.objects.filter(organisation=organisation).first()
    days = row.retention_days if row else DEFAULT_DAYS
    cutoff = now - timedelta(days=days)
    return InboxItem.objects.filter(
        organisation=organisation, received_at__lt=cutoff, legal_hold=False,
        redacted_at__isnull=True,
    ), days


def apply_retention(*, now: datetime | None = None, dry_run: bool = False,
                    report=None) -> int:
    """Remove personal data that is past its period; returns how many items
    were (with ``dry_run``: would be) redacted. ``report(org, count, days)``
    is told per organisation."""
    now = now or timezone.now()
    total = 0
    for organisation in Organisation.objects.all():
        items, days = due_items(organisation, now)
        count = items.count()
        if report is not None:
            report(organisation, count, days)
        total += count
        if dry_run or not count:
            continue
        with transaction.atomic():
            ids = list(items.select_for_update().values_list("pk", flat=True))
            _redact(ids, now)
            audit.record(
                "inbox.retention.applied",
                organisation=organisation,
                changes={"items": len(ids), "days": days},
            )
    return total


def erase_person(organisation: Organisation, person: str, *,
                 now: datetime | None = None) -> int:
    """A citizen's erasure: remove the personal data of every item whose
    author is ``person`` (name or network id), as retention does, unless the
    item is on legal hold. Returns how many items were redacted."""
    person = (person or "").strip()
    if not person:
        return 0
    now = now or timezone.now()
    items = InboxItem.objects.filter(
        organisation=organisation, legal_hold=False, redacted_at__isnull=True,
    ).filter(Q(author_name__iexact=person) | Q(author_id=person))
    with transaction.atomic():
        ids = list(items.select_for_update().values_list("pk", flat=True))
        if not ids:
            return 0
        _redact(ids, now)
        audit.record(
            "inbox.erasure.applied",
            organisation=organisation,
            changes={"items": len(ids)},
        )
    return len(ids)


def _redact(ids: list[int], now: datetime) -> None:
    """Remove the personal data of the items ``ids`` (and of every kept
    version of their text); what the desk did stays."""
    ItemVersion.objects.filter(item_id__in=ids).update(text="")
    InboxItem.objects.filter(pk__in=ids).update(
        text="", author_name="", author_id="", url="", personal_data=[],
        redacted_at=now,
    )
