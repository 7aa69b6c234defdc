"""Response targets in working hours with Danish holidays and summer time."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox import actions, targets
from kanal.inbox.models import InboxSettings
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role

from .factories import citizen_item

CPH = ZoneInfo("Europe/Copenhagen")


def local(*args):
    return datetime(*args, tzinfo=CPH)


def test_within_the_day_when_there_is_time_left():
    # Monday 9:00 + 8 working hours (8–16): Tuesday 9:00.
    assert targets.due_at(local(2026, 12, 7, 9), None) == local(2026, 12, 8, 9)


def test_a_weekend_does_not_count():
    # Friday 14:00: 2 hours on Friday, 6 on Monday → Monday 14:00.
    assert targets.due_at(local(2026, 12, 4, 14), None) == local(2026, 12, 7, 14)
    # Saturday: counted from Monday's opening.
    assert targets.due_at(local(2026, 12, 5, 11), None) == local(2026, 12, 7, 16)


def test_easter_holidays_do_not_count():
    # Wednesday before Easter 2027, 12:00: 4 hours, then Maundy Thursday,
    # Good Friday, the weekend and Easter Monday are closed → Tuesday 12:00.
    assert targets.due_at(local(2027, 3, 24, 12), None) == local(2027, 3, 30, 12)


def test_christmas_and_new_year():
    # Christmas Eve 2026 is a Thursday: Christmas Day and Boxing Day are
    # holidays (Boxing Day is a Saturday) → Monday 28 December.
    due = targets.due_at(local(2026, 12, 24, 17), None)
    assert due.date() > local(2026, 12, 25).date()
    assert targets.due_at(local(2026, 12, 31, 17), None) == local(2027, 1, 4, 16)


def test_the_change_to_winter_time_moves_nothing_on_the_wall_clock():
    # Friday 23 October 2026, 15:00 summer time; winter time from Sunday 25.
    due = targets.due_at(local(2026, 10, 23, 15), None)
    assert due == local(2026, 10, 26, 15)
    assert due.utcoffset() == timedelta(hours=1)
    assert due.astimezone(ZoneInfo("UTC")).hour == 14


@pytest.mark.django_db
def test_the_organisations_hours_and_target_are_used(organisation):
    row = InboxSettings.objects.create(
        organisation=organisation, opens_at=time(9), closes_at=time(15),
        open_weekdays=[0, 1, 2, 3, 4, 5], target_hours=12,
    )
    # Friday 9:00: 6 hours Friday, 6 hours Saturday (open) → Saturday 15:00.
    assert targets.due_at(local(2026, 12, 4, 9), row) == local(2026, 12, 5, 15)


@pytest.mark.django_db
def test_new_items_get_a_due_time_overdue_is_notified_once_and_on_time_stored(
    organisation, member, time_machine
):
    time_machine.move_to(local(2026, 12, 7, 9), tick=False)
    editor = member(Role.EDITOR)
    channel = ChannelFactory(organisation=organisation)
    conversation = citizen_item(channel, at=timezone.now()).conversation
    conversation.refresh_from_db()
    assert conversation.due_at == local(2026, 12, 8, 9)
    assert targets.notify_overdue() == 0
    time_machine.move_to(local(2026, 12, 8, 10), tick=False)
    assert targets.notify_overdue(dry_run=True) == 1
    assert targets.notify_overdue() == 1
    assert targets.notify_overdue() == 0
    assert Notification.objects.get(kind="inbox_overdue").recipient == editor
    actions.set_conversation_status(conversation, actor=editor, status="answered")
    assert targets.notify_overdue() == 0


@pytest.mark.django_db
def test_an_old_item_from_a_backfill_gets_no_due_time(organisation):
    channel = ChannelFactory(organisation=organisation)
    old = citizen_item(channel, at=timezone.now() - timedelta(days=30))
    old.conversation.refresh_from_db()
    assert old.conversation.due_at is None


@pytest.mark.django_db
def test_one_conversation_that_cannot_be_told_about_does_not_stop_the_others(
    organisation, member, monkeypatch
):
    member(Role.EDITOR)
    channel = ChannelFactory(organisation=organisation)
    first = citizen_item(channel, "Hvornår åbner det?", author="Ole").conversation
    second = citizen_item(channel, "Er der parkering?", author="Mette").conversation
    from kanal.inbox.models import Conversation

    Conversation.objects.filter(pk__in=[first.pk, second.pk]).update(
        due_at=timezone.now() - timedelta(hours=1))
    real = targets.notify

    def notify(recipients, **kwargs):
        if kwargs["about"].pk == first.pk:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "a mail that cannot go")
        return real(recipients, **kwargs)

    monkeypatch.setattr(targets, "notify", notify)
    assert targets.notify_overdue() == 1
    told = Notification.objects.get(kind="inbox_overdue")
    assert told.url == f"/indbakke/{second.pk}/"
    first.refresh_from_db()
    assert first.overdue_notified_at is None  # tried again next run
