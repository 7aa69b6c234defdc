"""A question the citizen deleted on the network waits for nobody: every path
that sets or reads a due time (intake, moderation, re-timing, the overdue
job, the list's filter, the first-response measures) follows one rule,
``Conversation.unanswered_items`` (T3-8 and its class)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.inbox import intake, moderation, replies, selectors, targets
from kanal.inbox.models import Conversation
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role

from .factories import citizen_item

pytestmark = pytest.mark.django_db

CPH = ZoneInfo("Europe/Copenhagen")


def local(*args):
    return datetime(*args, tzinfo=CPH)


def _deleted_by_citizen(item, *, at=None):
    """Meta's ``remove`` (polling's read-back "gone" sends the same)."""
    intake.ingest(item.channel, NetworkItem(
        remote_id=item.remote_id, kind=item.kind, author_id=item.author_id,
        author_name=item.author_name, text="", created_at=item.created_at,
        post_remote_id=item.post_remote_id, parent_remote_id=item.parent_remote_id,
    ), action="remove", at=at or timezone.now())


def _conversation(item) -> Conversation:
    return Conversation.objects.get(pk=item.conversation_id)


def _asked_again(desk, time_machine):
    """A question on Monday at 9 the citizen deletes, and a new one in the
    same thread on Wednesday at 11."""
    time_machine.move_to(local(2026, 12, 7, 9), tick=False)
    item = citizen_item(desk["channel"], remote_id="q1", at=timezone.now())
    _deleted_by_citizen(item)
    time_machine.move_to(local(2026, 12, 9, 11), tick=False)
    again = citizen_item(desk["channel"], "Hvornår åbner den så?", remote_id="q2",
                         parent="q1", at=timezone.now())
    return item, again


def test_a_question_the_citizen_deleted_loses_its_due_time(desk, time_machine):
    time_machine.move_to(local(2026, 12, 7, 9), tick=False)
    item = citizen_item(desk["channel"], at=timezone.now())
    assert _conversation(item).due_at == local(2026, 12, 8, 9)
    _deleted_by_citizen(item)
    conversation = _conversation(item)
    assert conversation.due_at is None
    assert conversation.status == "new"  # the desk decides; nothing is due


def test_a_question_deleted_after_its_notice_is_not_overdue_in_the_list(
    desk, time_machine
):
    time_machine.move_to(local(2026, 12, 7, 9), tick=False)
    item = citizen_item(desk["channel"], at=timezone.now())
    kept = citizen_item(desk["channel"], "Er der parkering?", author="Ole",
                        at=timezone.now())
    time_machine.move_to(local(2026, 12, 9, 9), tick=False)
    assert targets.notify_overdue() == 2
    _deleted_by_citizen(item)
    listed = selectors.conversations(Conversation.objects.all(),
                                     selectors.Filters(overdue=True))
    assert [c.pk for c in listed] == [kept.conversation_id]
    shown = {c.pk: c.is_overdue for c in selectors.conversations(
        Conversation.objects.all(), selectors.Filters())}
    assert shown == {item.conversation_id: False, kept.conversation_id: True}
    assert _conversation(item).overdue_notified_at is None


def test_when_the_citizen_writes_again_the_due_time_comes_from_that_item(
    desk, time_machine
):
    item, again = _asked_again(desk, time_machine)
    assert again.conversation_id == item.conversation_id
    assert _conversation(item).due_at == local(2026, 12, 10, 11)
    assert targets.notify_overdue() == 0


def test_deleting_the_oldest_of_two_questions_times_from_the_other(
    desk, time_machine
):
    time_machine.move_to(local(2026, 12, 7, 9), tick=False)
    first = citizen_item(desk["channel"], remote_id="q1", at=timezone.now())
    time_machine.move_to(local(2026, 12, 7, 13), tick=False)
    citizen_item(desk["channel"], "Og parkering?", remote_id="q2", parent="q1",
                 at=timezone.now())
    assert _conversation(first).due_at == local(2026, 12, 8, 9)
    _deleted_by_citizen(first)
    assert _conversation(first).due_at == local(2026, 12, 8, 13)


def test_a_question_the_desk_deleted_leaves_the_next_one_due_by_its_own_time(
    desk, time_machine, monkeypatch
):
    time_machine.move_to(local(2026, 12, 7, 9), tick=False)
    spam = citizen_item(desk["channel"], "Køb solbriller", remote_id="s1",
                        author="Spammer", at=timezone.now())
    time_machine.move_to(local(2026, 12, 7, 14), tick=False)
    citizen_item(desk["channel"], "Hvornår åbner det?", remote_id="q2",
                 parent="s1", at=timezone.now())
    # The network's side of a delete is the moderation tests' (sandbox).
    monkeypatch.setattr(moderation, "can_on_network", lambda item, kind: True)
    monkeypatch.setattr(moderation, "adapter_for", lambda channel: None)
    monkeypatch.setattr(moderation, "_on_network", lambda adapter, item, kind: None)
    moderation.moderate_item(spam, actor=desk["editor"], kind="delete",
                             reason="spam")
    conversation = _conversation(spam)
    assert conversation.status == "new"
    assert conversation.due_at == local(2026, 12, 8, 14)


def test_the_overdue_job_tells_nobody_of_a_conversation_timed_before(
    desk, member, time_machine
):
    """A row whose due time was set before deletions re-timed it (or by a
    path that missed it): the job checks the rule itself and repairs it."""
    member(Role.EDITOR)
    time_machine.move_to(local(2026, 12, 7, 9), tick=False)
    item = citizen_item(desk["channel"], at=timezone.now())
    due = _conversation(item).due_at
    _deleted_by_citizen(item)
    Conversation.objects.filter(pk=item.conversation_id).update(due_at=due)
    time_machine.move_to(local(2026, 12, 9, 9), tick=False)
    assert targets.notify_overdue() == 0
    assert not Notification.objects.filter(kind="inbox_overdue").exists()
    assert _conversation(item).due_at is None


def test_re_timing_by_new_settings_takes_the_due_time_of_nothing_waiting(
    desk, time_machine
):
    time_machine.move_to(local(2026, 12, 7, 9), tick=False)
    item = citizen_item(desk["channel"], at=timezone.now())
    due = _conversation(item).due_at
    _deleted_by_citizen(item)
    Conversation.objects.filter(pk=item.conversation_id).update(due_at=due)
    assert targets.retime_open(desk["channel"].organisation_id, None) == 1
    assert _conversation(item).due_at is None


def test_an_answer_to_the_question_after_a_deleted_one_is_measured_from_it(
    desk, time_machine
):
    """The first-response measure (``answered_on_time``, the dialogue
    dashboard's share) counts from the question still there, not from the
    deleted one whose target passed while nobody could answer it."""
    from kanal.insights import selectors as insights
    from kanal.publishing.models import FollowUp

    item, again = _asked_again(desk, time_machine)
    time_machine.move_to(local(2026, 12, 9, 12), tick=False)
    answer = replies.reply_to_item(again, actor=desk["editor"], text="Kl. 10.",
                                   key="svar-1")
    FollowUp.objects.filter(pk=answer.follow_up_id).update(
        status="done", updated_at=timezone.now())
    answer.follow_up.refresh_from_db()
    replies.record_reply_outcome(answer)
    conversation = _conversation(item)
    assert conversation.status == "answered"
    assert conversation.answered_on_time is True
    today = timezone.localdate()
    row, = insights.dialogue(conversation.organisation_id, insights.Period(
        today - timedelta(days=6), today)).rows
    assert row["on_time"] == 100
