"""Response targets in the organisation's working hours.

A target such as "answered within one working day" is counted in opening
hours on open weekdays in Danish local time, skipping Danish public holidays
(``holidays``) and the organisation's own closed days (24 and 31 December and
Grundlovsdag unless it says otherwise). Arithmetic is on the local wall
clock, then made aware in Europe/Copenhagen, so the change to and from
summer time moves nothing: an item at 15:00 on the Friday before the change
is due at 15:00 local time on Monday.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.db import transaction
from django.db.models import Max, Min, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from kanal.notifications.actions import notify
from kanal.notifications.audience import members_with
from kanal.publishing.periodic import each_guarded

from .models import (
    DEFAULT_CLOSED_DAYS,
    OPEN_STATUSES,
    Conversation,
    InboxItem,
    InboxSettings,
)
from .policies import conversation_policy

ZONE = ZoneInfo("Europe/Copenhagen")


@lru_cache(maxsize=32)
def _danish_holidays(year: int):
    return holidays.country_holidays("DK", years=year)


def is_working_day(day: date, weekdays, closed=DEFAULT_CLOSED_DAYS) -> bool:
    """Whether the desk works on ``day``: an open weekday that is neither a
    Danish public holiday nor one of the organisation's ``closed`` days
    ("MM-DD" every year, "YYYY-MM-DD" once)."""
    return (day.weekday() in weekdays
            and day not in _danish_holidays(day.year)
            and day.strftime("%m-%d") not in closed
            and day.isoformat() not in closed)


#: How far ahead a due time is looked for: ten years of working days (the
#: settings form refuses a target that does not fall within one year).
SEARCH_YEARS = 10


@lru_cache(maxsize=128)
def _working_days(year: int, weekdays: frozenset, closed: frozenset
                  ) -> tuple[date, ...]:
    """The desk's working days of ``year``, in order: read once a year and
    set of days, not once a conversation (``retime_open`` times thousands
    by the same settings)."""
    day, found = date(year, 1, 1), []
    while day.year == year:
        if is_working_day(day, weekdays, closed):
            found.append(day)
        day += timedelta(days=1)
    return tuple(found)


def due_at(start: datetime, settings_row: InboxSettings | None) -> datetime:
    """When an item that arrived at ``start`` must be answered.

    What is left of the target after ``start``'s own day is counted in
    whole working days (each ``closes - opens`` long) and the due day found
    among the year's working days (``_working_days``), not walked a day at
    a time: a narrow window with a large target (a minute a day, 1,000
    hours) costs what a normal one does."""
    opens = settings_row.opens_at if settings_row else time(8, 0)
    closes = settings_row.closes_at if settings_row else time(16, 0)
    weekdays = frozenset(settings_row.open_weekdays if settings_row else range(5))
    closed = frozenset(settings_row.closed_days if settings_row
                       else DEFAULT_CLOSED_DAYS)
    target = timedelta(hours=settings_row.target_hours if settings_row else 8)
    remaining = target
    if not weekdays or closes <= opens or remaining <= timedelta(0):
        return start + remaining
    local = start.astimezone(ZONE).replace(tzinfo=None)
    day = local.date()
    cursor = max(local, datetime.combine(day, opens))
    end = datetime.combine(day, closes)
    if is_working_day(day, weekdays, closed) and cursor < end:
        available = end - cursor
        if remaining <= available:
            return (cursor + remaining).replace(tzinfo=ZONE)
        remaining -= available
    window = datetime.combine(day, closes) - datetime.combine(day, opens)
    # The n-th working day after ``day`` holds the end of the target.
    needed = -(-remaining // window)
    left_on_last = remaining - (needed - 1) * window
    for year in range(day.year, day.year + SEARCH_YEARS + 1):
        days = _working_days(year, weekdays, closed)
        first = bisect_right(days, day) if year == day.year else 0
        if needed <= len(days) - first:
            found = days[first + needed - 1]
            return (datetime.combine(found, opens) + left_on_last).replace(
                tzinfo=ZONE)
        needed -= len(days) - first
    # Not within ten years (a target kept from before the form refused it).
    return start + target


#: The settings a due time is counted by: changing one re-times the open
#: conversations (``retime_open``).
TIMING_FIELDS = frozenset({"opens_at", "closes_at", "open_weekdays",
                           "closed_days", "target_hours"})


def retime_open(organisation_id: int, settings_row: InboxSettings | None, *,
                now: datetime | None = None) -> int:
    """Count the due time of the organisation's open conversations again by
    ``settings_row`` (new hours, days or target), from the oldest item the
    desk has not answered; returns how many moved. A conversation that is
    overdue no longer by the new rules may be told about again."""
    now = now or timezone.now()
    moved = []
    # Each conversation's waiting_since (Conversation.unanswered_items' rule)
    # read with the conversations in one query, not two more per conversation.
    unanswered = InboxItem.objects.filter(
        conversation=OuterRef("pk"), deleted_on_network_at__isnull=True,
        received_at__gt=Coalesce(OuterRef("last_sent"), Value(_NEVER)),
    ).values("conversation").annotate(start=Min("created_at")).values("start")
    open_ones = Conversation.objects.filter(
        organisation_id=organisation_id, status__in=OPEN_STATUSES,
        due_at__isnull=False,
    ).annotate(
        last_sent=Max("answers__created_at",
                      filter=Q(answers__follow_up__status="done")),
    ).annotate(start=Subquery(unanswered)).only("pk", "due_at", "overdue_notified_at")
    for conversation in open_ones.iterator(chunk_size=500):
        if _set_due(conversation, conversation.start, settings_row, now):
            moved.append(conversation)
    Conversation.objects.bulk_update(moved, ["due_at", "overdue_notified_at"],
                                     batch_size=500)
    return len(moved)


def retime(conversation_id: int, *, now: datetime | None = None) -> bool:
    """Count an open conversation's due time again after one of its items
    stopped waiting for the desk (deleted on the network, by the citizen or
    by the desk): from the oldest item still unanswered (``waiting_since``),
    or none when no item waits, so nobody is told to answer a question that
    is gone. Returns whether it moved. A conversation without a due time
    (only items too old for one) keeps none; a closed one keeps the due time
    its first answer was measured by."""
    now = now or timezone.now()
    # Locked: an answer that goes out now (``record_reply_outcome``) times
    # the same row.
    conversation = Conversation.objects.select_for_update().only(
        "pk", "organisation_id", "status", "due_at", "overdue_notified_at",
    ).get(pk=conversation_id)
    if conversation.status not in OPEN_STATUSES or conversation.due_at is None:
        return False
    moved = _set_due(conversation, waiting_since(conversation),
                     settings_for(conversation.organisation_id), now)
    if moved:
        conversation.save(update_fields=["due_at", "overdue_notified_at"])
    return moved


def _set_due(conversation: Conversation, start: datetime | None,
             settings_row: InboxSettings | None, now: datetime) -> bool:
    """Give ``conversation`` the due time counted from ``start`` (none when
    ``start`` is None: nothing waits); True when it changed. A due time
    moved into the future, or taken away, may be told about again."""
    due = None if start is None else due_at(start, settings_row)
    if due == conversation.due_at:
        return False
    conversation.due_at = due
    if due is None or due > now:
        conversation.overdue_notified_at = None
    return True


#: Before any answer: every item counts as unanswered.
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def waiting_since(conversation: Conversation) -> datetime | None:
    """When the oldest citizen item the desk has not answered was written:
    of the items (not deleted on the network) that arrived after the newest
    answer that went out was written, or of all items when none went out;
    None when every item came before that answer."""
    return conversation.unanswered_items().aggregate(
        start=Min("created_at"))["start"]


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
        if not conversation.unanswered_items().exists():
            # Every question in it was deleted on the network (a row timed
            # before deletions re-timed it): nothing to answer, no due time.
            Conversation.objects.filter(pk=conversation.pk).update(
                due_at=None, overdue_notified_at=None)
            return 0
        notify(
            _who_handles(conversation), kind="inbox_overdue",
            params={"channel": str(conversation.channel),
                    "when": conversation.due_at.isoformat()},
            about=conversation, url=f"/indbakke/{conversation.pk}/",
        )
    return 1


def _who_handles(conversation: Conversation):
    """The person it is assigned to while they can still see it; else who
    answers for its administration; else the desk. A person deactivated,
    whose login is closed or whose role no longer answers is not told in
    place of everyone who can act (it is told once)."""
    if conversation.assigned_to_id and conversation_policy.viewers(
            conversation).filter(pk=conversation.assigned_to_id).exists() and (
            conversation.assigned_to.has_perm("inbox.answer")):
        # Seeing it is not enough: a crisis lead reads every conversation
        # and answers none.
        return [conversation.assigned_to]
    org = conversation.organisation_id
    if conversation.assigned_administration_id:
        people = members_with(org, "inbox.answer",
                              administration_id=conversation.assigned_administration_id)
        if people:
            return people
    return members_with(org, "inbox.view_all")
