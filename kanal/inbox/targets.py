"""Response targets in the organisation's working hours.

A target such as "answered within one working day" is counted in opening
hours on open weekdays in Danish local time, skipping Danish public holidays
(``holidays``). Arithmetic is on the local wall clock, then made aware in
Europe/Copenhagen, so the change to and from summer time moves nothing: an
item at 15:00 on the Friday before the change is due at 15:00 local time on
Monday.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.db import transaction
from django.utils import timezone

from kanal.notifications.actions import notify
from kanal.notifications.audience import members_with
from kanal.publishing.periodic import each_guarded

from .models import OPEN_STATUSES, Conversation, InboxSettings

ZONE = ZoneInfo("Europe/Copenhagen")


@lru_cache(maxsize=32)
def _danish_holidays(year: int):
    return holidays.country_holidays("DK", years=year)


def is_working_day(day: date, weekdays) -> bool:
    return day.weekday() in weekdays and day not in _danish_holidays(day.year)


def due_at(start: datetime, settings_row: InboxSettings | None) -> datetime:
    """When an item that arrived at ``start`` must be answered."""
    opens = settings_row.opens_at if settings_row else time(8, 0)
    closes = settings_row.closes_at if settings_row else time(16, 0)
    weekdays = set(settings_row.open_weekdays if settings_row else range(5))
    remaining = timedelta(hours=settings_row.target_hours if settings_row else 8)
    if not weekdays or closes <= opens or remaining <= timedelta(0):
        return start + remaining
    local = start.astimezone(ZONE).replace(tzinfo=None)
    day = local.date()
    cursor = max(local, datetime.combine(day, opens))
    for _ in range(3700):  # ten years of days: a bound, never reached
        end = datetime.combine(day, closes)
        if is_working_day(day, weekdays) and cursor < end:
            available = end - cursor
            if remaining <= available:
                return (cursor + remaining).replace(tzinfo=ZONE)
            remaining -= available
        day += timedelta(days=1)
        cursor = datetime.combine(day, opens)
    return start + remaining


def settings_for(organisation_id: int) -> InboxSettings | None:
    return InboxSettings.objects.filter(organisation_id=organisation_id).first()


def notify_overdue(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Tell who handles each newly overdue conversation (once each)."""
    now = now or timezone.now()
    due = Conversation.objects.filter(
        status__in=OPEN_STATUSES, due_at__lt=now, overdue_notified_at__isnull=True
    ).select_related("channel", "assigned_administration", "assigned_to__user")
    if dry_run:
        return due.count()
    # Each conversation guarded: one that cannot be told about never keeps
    # the ones after it (of every organisation) untold.
    return each_guarded("inbox_overdue", due[:500],
                        lambda conversation: _notify_overdue(conversation, now))


def _notify_overdue(conversation: Conversation, now: datetime) -> int:
    with transaction.atomic():
        marked = Conversation.objects.filter(
            pk=conversation.pk, overdue_notified_at__isnull=True
        ).update(overdue_notified_at=now)
        if not marked:
            return 0
        notify(
            _who_handles(conversation), kind="inbox_overdue",
            params={"channel": str(conversation.channel),
                    "when": conversation.due_at.isoformat()},
            about=conversation, url=f"/indbakke/{conversation.pk}/",
        )
    return 1


def _who_handles(conversation: Conversation):
    if conversation.assigned_to_id:
        return [conversation.assigned_to]
    org = conversation.organisation_id
    if conversation.assigned_administration_id:
        people = members_with(org, "inbox.answer",
                              administration_id=conversation.assigned_administration_id)
        if people:
            return people
    return members_with(org, "inbox.view_all")
