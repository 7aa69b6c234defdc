"""The inbox feeds the record through its signals: what a citizen wrote, its
later edits and deletion on the network as new versions, the desk's answer as
it went out, moderation with its reason; an erasure reaches the inbox."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.inbox import signals
from kanal.inbox.intake import ingest
from kanal.inbox.models import Answer, InboxItem
from kanal.inbox.tests.factories import citizen_item
from kanal.records import actions, retention
from kanal.records.inbox_capture import item_key
from kanal.records.models import RecordEntry

pytestmark = pytest.mark.django_db


def versions(item):
    return list(
        RecordEntry.objects.filter(source_key=item_key(item)).order_by("version")
    )


def test_a_citizen_comment_and_its_edit_and_deletion_are_versions(
    desk, django_capture_on_commit_callbacks
):
    channel = desk["facebook"]
    with django_capture_on_commit_callbacks(execute=True):
        item = citizen_item(channel, "Er havnebadet åbent i dag?",
                            remote_id="c-1", author="Mette Hansen")
    [first] = versions(item)
    assert first.kind == "comment"
    assert first.text == "Er havnebadet åbent i dag?"
    assert first.person == "Mette Hansen"
    assert first.content["remote_id"] == "c-1"

    later = timezone.now() + timedelta(minutes=5)
    edited = NetworkItem(
        remote_id="c-1", kind="comment", author_id="author-Mette-Hansen",
        author_name="Mette Hansen", text="Er havnebadet ved Islands Brygge åbent?",
        created_at=item.created_at, post_remote_id="post-1",
        parent_remote_id="post-1",
    )
    with django_capture_on_commit_callbacks(execute=True):
        ingest(channel, edited, action="edited", at=later)
    with django_capture_on_commit_callbacks(execute=True):
        ingest(channel, edited, action="remove", at=later + timedelta(minutes=1))
    found = versions(item)
    assert [e.change for e in found] == ["created", "edited", "deleted"]
    # The first version is kept as it was: never overwritten.
    assert found[0].text == "Er havnebadet åbent i dag?"
    assert found[1].text == "Er havnebadet ved Islands Brygge åbent?"
    assert len({e.content_hash for e in found}) == 3


def test_the_answer_is_recorded_with_the_text_that_went_out(desk):
    channel = desk["facebook"]
    item = citizen_item(channel, "Hvornår åbner biblioteket?", author="Omar Khan")
    conversation = item.conversation
    answer = SimpleNamespace(
        text="Hej Omar. Vi åbner kl. 10.",
        follow_up=SimpleNamespace(
            text="Hej Omar. Vi åbner kl. 10.\n\nSvaret er vejledning.",
            updated_at=timezone.now(),
        ),
        author=None, standard_answer_id=None,
    )
    signals.reply_sent.send(sender=Answer, conversation=conversation, item=item,
                            remote_id="r-77", answer=answer)
    entry = RecordEntry.objects.get(kind="reply")
    assert entry.text == "Hej Omar. Vi åbner kl. 10.\n\nSvaret er vejledning."
    assert entry.content["in_reply_to"] == item.remote_id
    assert entry.person == "Omar Khan"


def test_a_moderation_is_recorded_with_its_reason(desk):
    item = citizen_item(desk["facebook"], "Køb billige solbriller!", author="Spam")
    signals.item_moderated.send(sender=InboxItem, item=item, action="hide",
                                reason="advertising", actor=desk["editor"])
    entry = RecordEntry.objects.get(kind="moderation")
    assert entry.content["action"] == "hide"
    assert entry.content["reason"] == "advertising"
    assert entry.content["by"] == str(desk["editor"].user)


def test_an_erasure_in_the_record_removes_the_person_from_the_inbox(
    desk, django_capture_on_commit_callbacks
):
    channel = desk["facebook"]
    with django_capture_on_commit_callbacks(execute=True):
        gone = citizen_item(channel, "Mit nummer er 12345678", author="Jens Jensen")
        held = citizen_item(channel, "Klage over larm", author="Jens Jensen")
        other = citizen_item(channel, "Tak for i dag", author="Anna Berg")
    # A hold in the record on the moment Jens wrote about the noise.
    actions.place_hold(actor=desk["officer"], reason="Klage",
                       period_start=held.created_at, period_end=held.created_at)
    with django_capture_on_commit_callbacks(execute=True):
        retention.erase_person(actor=desk["officer"], person="Jens Jensen",
                               reason="Borgerens anmodning")
    gone.refresh_from_db()
    held.refresh_from_db()
    other.refresh_from_db()
    assert gone.text == "" and gone.author_name == "" and gone.redacted_at
    assert held.text == "Klage over larm"  # on legal hold
    assert other.text == "Tak for i dag"
