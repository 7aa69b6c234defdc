"""Redaction removes the names Kanal made of the citizen's: the first name
a standard answer put in, and the name as a colleague typed it from the
screen (T4-3)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kanal.inbox import actions, replies, retention
from kanal.inbox.models import Answer, Note, StandardAnswer

from .factories import citizen_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(desk):
    return StandardAnswer.objects.create(
        organisation=desk["channel"].organisation, title="Tak",
        text="Hej {fornavn}. Tak for din besked.")


def test_a_note_naming_the_citizen_as_shown_is_redacted(desk):
    """The name holds an invisible character (a zero-width joiner, which
    intake keeps for emoji); the note has it as the colleague typed it."""
    item = citizen_item(desk["channel"], author="Met\u200dte Hansen")
    assert item.author_name == "Met\u200dte Hansen"
    note = actions.add_note(item.conversation, actor=desk["editor"],
                            text="Mette Hansen ringer igen i morgen.")
    retention.redact_items([item.pk], now=timezone.now())
    note.refresh_from_db()
    assert note.text == "[slettet] ringer igen i morgen."


def test_the_first_name_stays_in_another_citizens_conversation(desk, template):
    mine = citizen_item(desk["channel"], author="Mette Hansen",
                        parent="thread-1")
    other = citizen_item(desk["channel"], author="Mette Jensen",
                         parent="thread-2")
    assert mine.conversation_id != other.conversation_id
    replies.reply_to_item(mine, actor=desk["editor"], standard_answer=template,
                          key="mine")
    kept = replies.reply_to_item(other, actor=desk["editor"],
                                 standard_answer=template, key="other")
    Note.objects.create(conversation=other.conversation, author=desk["editor"],
                        text="Mette Jensen er ikke Mette Hansen.")
    retention.redact_items([mine.pk], now=timezone.now())
    assert Answer.objects.get(item=mine).text == (
        "Hej [slettet]. Tak for din besked.")
    kept.refresh_from_db()
    assert kept.text == "Hej Mette. Tak for din besked."
    assert Note.objects.get(conversation=other.conversation).text == (
        "Mette Jensen er ikke Mette Hansen.")


def test_only_names_become_spellings_to_remove():
    assert retention.quoted_as({"Mette\u00ad Hansen", "88123456", "@mette_h"}) == {
        "Mette Hansen", "Mette", "88123456", "@mette_h"}
