"""Response targets: the desk's own closed days and one rule for every open
conversation (finding 18 of the second outside tester, the wider class)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from kanal.core.models import AuditEntry
from kanal.inbox import actions, targets
from kanal.inbox.forms import parse_closed_days
from kanal.inbox.models import Conversation, InboxSettings
from kanal.organisations.roles import Role

from .factories import citizen_item

CPH = ZoneInfo("Europe/Copenhagen")
pytestmark = pytest.mark.django_db

FORM = {"opens_at": "08:00", "closes_at": "16:00",
        "open_weekdays": ["0", "1", "2", "3", "4"], "target_hours": "8",
        "retention_days": "365", "footer_text": "", "block_at_warning": "3"}


def test_new_years_eve_is_closed_by_default_and_a_single_date_can_be_closed(
    organisation,
):
    dec_30 = datetime(2026, 12, 30, 15, tzinfo=CPH)  # a Wednesday
    assert targets.due_at(dec_30, None).astimezone(CPH).date() == (
        datetime(2027, 1, 4).date())  # 31/12 closed, 1/1 a holiday, weekend
    row = InboxSettings.objects.create(organisation=organisation,
                                       closed_days=["2026-05-15"])
    thursday = datetime(2026, 5, 14, 15, tzinfo=CPH)  # Kristi himmelfartsdag
    assert targets.due_at(thursday, row).astimezone(CPH).date() == (
        datetime(2026, 5, 18).date())
    row.closed_days = []  # an organisation open on 24/12 says so
    christmas_eve = datetime(2026, 12, 24, 9, tzinfo=CPH)
    assert targets.due_at(christmas_eve, row).astimezone(CPH).date() == (
        datetime(2026, 12, 28).date())  # 8 h: 7 on the 24th, 1 on the 28th


def test_the_settings_page_keeps_closed_days_and_refuses_a_non_date(
    organisation, member, client_for
):
    client = client_for(member(Role.ADMIN))
    page = client.get("/indbakke/indstillinger/").content.decode()
    assert 'value="24/12, 31/12, 5/6"' in page  # the defaults, shown
    response = client.post("/indbakke/indstillinger/",
                           {**FORM, "closed_days": "24/12, 31/2, 5/6"})
    assert response.status_code == 400  # refused (T7a-1)
    html = response.content.decode()
    assert "“31/2” er ikke en dato." in html
    assert "24/12, 31/2, 5/6" in html  # what was typed is kept
    assert not InboxSettings.objects.exists()
    response = client.post("/indbakke/indstillinger/",
                           {**FORM, "closed_days": "24/12\n31.12; 15/5/2026"})
    assert response.status_code == 302
    row = InboxSettings.objects.get(organisation=organisation)
    assert row.closed_days == ["12-24", "12-31", "2026-05-15"]


@pytest.mark.parametrize("typed", ["24", "12/24", "0/1", "1/1/26", "x", "24/12/"])
def test_what_is_no_date_is_refused(typed):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="er ikke en dato"):
        parse_closed_days(typed)


def test_closing_a_weekday_re_times_open_conversations_only(
    organisation, desk, member
):
    row = InboxSettings.objects.create(organisation=organisation)
    monday = datetime(2026, 12, 7, 15, tzinfo=CPH)
    open_one = citizen_item(desk["channel"], "Åbent spørgsmål", at=monday)
    answered = citizen_item(desk["channel"], "Besvaret", at=monday)
    Conversation.objects.filter(pk=answered.conversation_id).update(
        status="answered")
    answered_due = Conversation.objects.get(pk=answered.conversation_id).due_at
    assert open_one.conversation.due_at.astimezone(CPH).date() == (
        datetime(2026, 12, 8).date())
    row.open_weekdays = [0, 2, 3, 4]  # Tuesdays closed
    actions.save_inbox_settings(row, actor=member(Role.ADMIN),
                                changed=["open_weekdays"])
    open_one.conversation.refresh_from_db()
    assert open_one.conversation.due_at.astimezone(CPH).date() == (
        datetime(2026, 12, 9).date())
    assert Conversation.objects.get(pk=answered.conversation_id).due_at == (
        answered_due)
    entry = AuditEntry.objects.filter(event="inbox.settings.changed").last()
    assert entry.changes["retimed"] == 1


def test_a_conversation_no_longer_overdue_may_be_told_about_again(
    organisation, desk, member
):
    row = InboxSettings.objects.create(organisation=organisation, target_hours=1)
    item = citizen_item(desk["channel"], "Hvornår?",
                        at=timezone.now() - timedelta(hours=1))
    Conversation.objects.filter(pk=item.conversation_id).update(
        due_at=timezone.now() - timedelta(minutes=1),
        overdue_notified_at=timezone.now())
    row.target_hours = 400
    row.opens_at, row.closes_at = time(0), time(23, 59)
    row.open_weekdays = [0, 1, 2, 3, 4, 5, 6]
    actions.save_inbox_settings(row, actor=member(Role.ADMIN),
                                changed=["target_hours"])
    conversation = Conversation.objects.get(pk=item.conversation_id)
    assert conversation.due_at > timezone.now()
    assert conversation.overdue_notified_at is None


def test_other_settings_leave_due_times_alone(organisation, desk, member):
    row = InboxSettings.objects.create(organisation=organisation)
    item = citizen_item(desk["channel"], "Hvornår?")
    Conversation.objects.filter(pk=item.conversation_id).update(
        due_at=timezone.now() + timedelta(days=30))
    row.target_hours = 2
    actions.save_inbox_settings(row, actor=member(Role.ADMIN),
                                changed=["footer_text"])
    assert Conversation.objects.get(pk=item.conversation_id).due_at > (
        timezone.now() + timedelta(days=29))


def test_re_timing_reads_the_same_number_of_queries_for_2_and_6_conversations(
    organisation, desk
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    row = InboxSettings.objects.create(organisation=organisation)
    monday = datetime(2026, 12, 7, 15, tzinfo=CPH)

    def queries_for(count):
        for n in range(count):
            citizen_item(desk["channel"], f"Spørgsmål {n}", at=monday)
        row.open_weekdays = [0, 2, 3, 4] if row.open_weekdays != [0, 2, 3, 4] \
            else [0, 1, 2, 3, 4]
        with CaptureQueriesContext(connection) as captured:
            targets.retime_open(organisation.pk, row)
        return len(captured)

    assert queries_for(2) == queries_for(4)
