"""A narrow reply window with a large target: saving the settings re-times
every open conversation, and each due time was found by walking up to
3,700 days one at a time (33.6 ms a conversation, a minute a day and a
32,767-hour target), a wrong one when the walk ran out. The due day is now
found among each year's working days, read once; the form refuses a
target beyond a year of opening hours (G3-4)."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from kanal.inbox import actions, targets
from kanal.inbox.models import Conversation, InboxSettings
from kanal.organisations.roles import Role

from .factories import citizen_item
from .test_closed_days_and_retiming import FORM

CPH = ZoneInfo("Europe/Copenhagen")


def walked(start, row):
    """The due time walked a day at a time, without a bound (the rule)."""
    remaining = timedelta(hours=row.target_hours)
    weekdays, closed = set(row.open_weekdays), frozenset(row.closed_days)
    local = start.astimezone(CPH).replace(tzinfo=None)
    day = local.date()
    cursor = max(local, datetime.combine(day, row.opens_at))
    while True:
        end = datetime.combine(day, row.closes_at)
        if targets.is_working_day(day, weekdays, closed) and cursor < end:
            if remaining <= end - cursor:
                return (cursor + remaining).replace(tzinfo=CPH)
            remaining -= end - cursor
        day += timedelta(days=1)
        cursor = datetime.combine(day, row.opens_at)


def settings(opens, closes, hours, weekdays=(0, 1, 2, 3, 4),
             closed=("12-24", "12-31", "06-05")):
    return SimpleNamespace(opens_at=opens, closes_at=closes, target_hours=hours,
                           open_weekdays=list(weekdays), closed_days=list(closed))


CASES = [
    settings(time(8), time(16), 8),
    settings(time(8), time(16), 1),
    settings(time(8), time(8, 1), 40),  # a minute a day: 2,400 working days
    settings(time(9, 30), time(10), 300),
    settings(time(0), time(23, 59), 400, weekdays=range(7)),
    settings(time(8), time(16), 1000, weekdays=(5,), closed=("2027-01-02",)),
]


@pytest.mark.parametrize("row", CASES)
def test_the_due_time_is_the_one_walked_a_day_at_a_time(row):
    rng = random.Random(7)
    base = datetime(2026, 12, 20, tzinfo=CPH)  # across Christmas, New Year
    for _ in range(40):
        start = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 400))
        assert targets.due_at(start, row) == walked(start, row), start


def test_summer_time_moves_nothing():
    row = settings(time(8), time(16), 16)
    friday = datetime(2026, 3, 27, 15, tzinfo=CPH)  # before the change
    assert targets.due_at(friday, row) == datetime(2026, 3, 31, 15, tzinfo=CPH)


@pytest.mark.django_db
def test_re_timing_many_conversations_reads_each_day_once(
    organisation, desk, member, monkeypatch
):
    """Before: 3,700 days looked at per conversation (185,000 for 50)."""
    row = InboxSettings.objects.create(organisation=organisation)
    for n in range(50):
        citizen_item(desk["channel"], f"Spørgsmål {n}")
    if hasattr(targets, "_working_days"):
        targets._working_days.cache_clear()
    looked = []
    real = targets.is_working_day
    monkeypatch.setattr(targets, "is_working_day",
                        lambda *a, **k: looked.append(1) or real(*a, **k))
    row.opens_at, row.closes_at, row.target_hours = time(8), time(8, 1), 4
    actions.save_inbox_settings(row, actor=member(Role.ADMIN),
                                changed=["closes_at", "target_hours"])
    assert len(looked) <= 366 * 2 + 50
    due = {c.due_at for c in Conversation.objects.all()}
    assert all(d > datetime.now(CPH) + timedelta(days=300) for d in due)


@pytest.mark.django_db
def test_the_form_refuses_a_target_beyond_a_year_of_opening_hours(
    organisation, member, client_for
):
    client = client_for(member(Role.ADMIN))
    response = client.post("/indbakke/indstillinger/", {
        **FORM, "opens_at": "08:00", "closes_at": "08:01",
        "target_hours": "32767"})
    assert response.status_code == 400  # refused (T7a-1)
    html = response.content.decode()
    assert "mere end et års åbningstid" in html
    assert "højst 4 timer" in html  # a minute a day, five days, 52 weeks
    assert not InboxSettings.objects.exists()
    response = client.post("/indbakke/indstillinger/", {
        **FORM, "opens_at": "08:00", "closes_at": "08:01", "target_hours": "4"})
    assert response.status_code == 302
