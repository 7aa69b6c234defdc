"""OUTSIDE TESTER 4 (branch tester4): failing tests for response targets
and the list's order. Each test names its finding (T4-N) in
/work/briefs/findings4.md."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from kanal.inbox import selectors
from kanal.inbox.models import Conversation
from kanal.inbox.policies import conversation_policy

from .factories import citizen_item

pytestmark = pytest.mark.django_db

CPH = ZoneInfo("Europe/Copenhagen")


def test_t4_9_a_question_stamped_ahead_of_kanals_clock_is_due_from_its_arrival(
    desk, time_machine
):
    """T4-9: a time up to a day ahead of Kanal's clock is accepted as "a
    clock's error" (``plausible_time``), and the due time and the list's
    order count from it. A question that arrives Monday at 9, stamped 20
    hours ahead (a federated server's clock, a network's time zone bug), is
    due Tuesday at 16 instead of 9, and sits above every conversation that
    arrives after it until Tuesday morning."""
    time_machine.move_to(datetime(2026, 12, 7, 9, tzinfo=CPH), tick=False)
    ahead = citizen_item(desk["channel"], remote_id="ahead",
                         at=timezone.now() + timedelta(hours=20))
    time_machine.move_to(datetime(2026, 12, 7, 10, tzinfo=CPH), tick=False)
    later = citizen_item(desk["channel"], "Er svømmehallen åben i dag?",
                         remote_id="later", at=timezone.now())
    due = Conversation.objects.get(pk=ahead.conversation_id).due_at
    assert due == datetime(2026, 12, 8, 9, tzinfo=CPH)
    listed = selectors.conversations(conversation_policy.visible(desk["editor"]),
                                     selectors.Filters())
    assert [c.pk for c in listed] == [later.conversation_id, ahead.conversation_id]


def test_an_edit_stamped_ahead_does_not_outrank_a_later_edit(desk, time_machine):
    """The same class for an item's versions: an edit stamped hours ahead
    counts from when Kanal got it, so the citizen's next edit is newer."""
    from kanal.channels.networks.base import InboxItem as NetworkItem
    from kanal.inbox import intake

    time_machine.move_to(datetime(2026, 12, 7, 9, tzinfo=CPH), tick=False)
    item = citizen_item(desk["channel"], "Første udgave")

    def edit(text, at):
        intake.ingest(desk["channel"], NetworkItem(
            remote_id=item.remote_id, kind=item.kind, author_id=item.author_id,
            author_name=item.author_name, text=text, created_at=item.created_at,
            post_remote_id=item.post_remote_id,
            parent_remote_id=item.parent_remote_id), action="edited", at=at)

    edit("Anden udgave", timezone.now() + timedelta(hours=20))
    time_machine.move_to(datetime(2026, 12, 7, 10, tzinfo=CPH), tick=False)
    edit("Tredje udgave", timezone.now())
    item.refresh_from_db()
    assert item.text == "Tredje udgave"


def test_a_partner_post_stamped_ahead_counts_as_found_now():
    from types import SimpleNamespace

    from kanal.sources import partners

    now = timezone.now()
    post = SimpleNamespace(remote_id="p1", text="Nyhed", author_name="Partner",
                           media_urls=[], url="", created_at=now + timedelta(hours=20))
    published = partners.as_item("mastodon", post).published_at
    assert now <= published <= timezone.now()
