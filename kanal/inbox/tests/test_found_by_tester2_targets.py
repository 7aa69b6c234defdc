"""OUTSIDE TESTER 2 (branch tester2): failing tests for response targets.
Each test names its finding in /work/briefs/findings2.md. They fail on main
as of 39dbe77."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from kanal.inbox import actions, targets
from kanal.inbox.models import InboxSettings
from kanal.organisations.roles import Role

from .factories import citizen_item

CPH = ZoneInfo("Europe/Copenhagen")
pytestmark = pytest.mark.django_db


def test_finding_18_new_opening_hours_move_the_open_conversations_due_times(
    organisation, desk, member
):
    """Finding 18: due times are computed once, on arrival. When the
    administrator changes the opening hours or the target (here from 8 to 2
    working hours, or closing a weekday) open conversations keep the due
    time of the old rules; only new items follow the new ones. The list then
    mixes two rules, and the overdue notices and on-time share of the open
    items measure against rules no longer in force."""
    InboxSettings.objects.create(organisation=organisation, target_hours=8,
                                 opens_at=time(8), closes_at=time(16),
                                 open_weekdays=[0, 1, 2, 3, 4])
    item = citizen_item(desk["channel"], "Hvornår tømmes skraldet?")
    conversation = item.conversation
    old_due = conversation.due_at
    row = InboxSettings.objects.get(organisation=organisation)
    row.target_hours = 2
    actions.save_inbox_settings(row, actor=member(Role.ADMIN),
                                changed=["target_hours"])
    conversation.refresh_from_db()
    assert conversation.due_at == targets.due_at(item.created_at, row)
    assert conversation.due_at != old_due


def test_finding_18_the_desks_closed_days_beyond_the_public_holidays(organisation):
    """Finding 18: only the statutory holidays of ``holidays`` are closed,
    and the organisation cannot add any: Juleaftensdag (24 December),
    Nytårsaftensdag (31 December) and Grundlovsdag (5 June), when a
    municipality's offices are closed, count as full working days, so a
    comment on 23 December is due on Christmas Eve and goes overdue."""
    day_before = datetime(2026, 12, 23, 15, tzinfo=CPH)  # a Wednesday
    due = targets.due_at(day_before, None)  # 8 working hours, 8-16
    assert due.astimezone(CPH).date() > datetime(2026, 12, 27).date(), due
    june = datetime(2026, 6, 4, 15, tzinfo=CPH)  # Thursday before Grundlovsdag
    assert targets.due_at(june, None).astimezone(CPH).date() != (
        datetime(2026, 6, 5).date())
