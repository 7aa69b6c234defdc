"""Hints given by older rules are read again: ``inbox_rehint`` gives stored
items the sentiment and language a new item gets now and each conversation
its *Negativ stemning*; batched, idempotent, a dry run only counts (G3-3).
A citizen's edit moves the conversation's *negative* too."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.core.models import AuditEntry
from kanal.inbox import hints
from kanal.inbox.intake import ingest
from kanal.inbox.models import Conversation, InboxItem

from .factories import citizen_item

pytestmark = pytest.mark.django_db

#: Read as negative by the old word list alone ("godt" +3 without "ikke"
#: turning it round would be positive): now "ikke godt nok" is negative.
TURNED = "Det er ikke godt nok, det her"
NEUTRAL_NOW = "Hvornår åbner svømmehallen igen efter ferien?"


def _as_old_rules_left_them(item, *, sentiment, language="", negative):
    InboxItem.objects.filter(pk=item.pk).update(sentiment=sentiment,
                                                language=language)
    Conversation.objects.filter(pk=item.conversation_id).update(negative=negative)


def _run(*args):
    out = StringIO()
    call_command("inbox_rehint", *args, stdout=out)
    return out.getvalue()


def test_old_hints_are_read_again_and_a_second_run_changes_nothing(desk):
    channel = desk["channel"]
    turned = citizen_item(channel, TURNED, author="Ida Holm")
    calm = citizen_item(channel, NEUTRAL_NOW, author="Omar Khan")
    assert hints.sentiment_label(turned.sentiment) == "negative"
    _as_old_rules_left_them(turned, sentiment=3, negative=False)
    _as_old_rules_left_them(calm, sentiment=-4, language="no", negative=True)

    out = _run("--batch", "1")
    assert "2 læst, 2 får ny stemning, 2 nyt sprog, 2 samtaler" in out
    turned.refresh_from_db()
    calm.refresh_from_db()
    assert turned.sentiment == hints.sentiment(TURNED)
    assert turned.language == hints.language(TURNED)
    assert calm.language == "da"
    assert calm.sentiment == hints.sentiment(NEUTRAL_NOW)
    assert Conversation.objects.get(pk=turned.conversation_id).negative is True
    assert Conversation.objects.get(pk=calm.conversation_id).negative is False
    entry = AuditEntry.objects.get(event="inbox.hints.recomputed")
    assert entry.changes == {"sentiment": 2, "language": 2, "negative": 2}

    assert "0 får ny stemning, 0 nyt sprog, 0 samtaler" in _run()
    assert AuditEntry.objects.filter(event="inbox.hints.recomputed").count() == 1


def test_a_dry_run_counts_and_changes_nothing(desk):
    turned = citizen_item(desk["channel"], TURNED)
    _as_old_rules_left_them(turned, sentiment=3,
                            language=hints.language(TURNED), negative=False)
    out = _run("--dry-run")
    assert out.startswith("Prøvekørsel: 1 læst, 1 får ny stemning, 0 nyt sprog, "
                          "1 samtaler")
    turned.refresh_from_db()
    assert turned.sentiment == 3
    assert Conversation.objects.get(pk=turned.conversation_id).negative is False
    assert not AuditEntry.objects.filter(event="inbox.hints.recomputed").exists()


def test_the_conversation_follows_its_newest_item(desk):
    """An older angry item under a newer calm one: the conversation is not
    negative, as intake leaves it."""
    channel = desk["channel"]
    old = citizen_item(channel, TURNED, at=timezone.now() - timedelta(hours=2))
    ingest(channel, NetworkItem(
        remote_id="newer", kind="reply", author_id="a", author_name="Ida",
        text=NEUTRAL_NOW, created_at=timezone.now(), post_remote_id="post-1",
        parent_remote_id=old.remote_id))
    assert InboxItem.objects.get(remote_id="newer").conversation_id == (
        old.conversation_id)
    Conversation.objects.filter(pk=old.conversation_id).update(negative=True)
    _run()
    assert Conversation.objects.get(pk=old.conversation_id).negative is False


def test_a_redacted_item_keeps_its_hint(desk):
    item = citizen_item(desk["channel"], TURNED)
    InboxItem.objects.filter(pk=item.pk).update(text="", redacted_at=timezone.now(),
                                                sentiment=-3, language="da")
    _run()
    item.refresh_from_db()
    assert (item.sentiment, item.language) == (-3, "da")


def test_a_citizens_edit_moves_the_conversations_negative(desk):
    channel = desk["channel"]
    item = citizen_item(channel, NEUTRAL_NOW, remote_id="edited")
    assert Conversation.objects.get(pk=item.conversation_id).negative is False
    ingest(channel, NetworkItem(
        remote_id="edited", kind="comment", author_id=item.author_id,
        author_name=item.author_name, text="Det er en skandale, I er elendige",
        created_at=item.created_at, post_remote_id="post-1",
        parent_remote_id="post-1"), action="edit",
        at=timezone.now() + timedelta(minutes=1))
    item.refresh_from_db()
    assert hints.sentiment_label(item.sentiment) == "negative"
    assert Conversation.objects.get(pk=item.conversation_id).negative is True


class _EditedMeanwhile:
    """``hints`` as ``rehint`` sees it, with a citizen's edit landing at
    ``moment`` (after rehint read its rows, before it wrote them)."""

    def __init__(self, moment, edit):
        self.moment, self.edit, self.done = moment, edit, False

    def __getattr__(self, name):
        real = getattr(hints, name)
        if name != self.moment:
            return real

        def once(*args):
            if not self.done:
                self.done = True
                self.edit()
            return real(*args)

        return once


def _citizens_edit(item, text):
    """What ``changes._show_newest`` writes when the citizen edits ``item``."""
    InboxItem.objects.filter(pk=item.pk).update(
        text=text, sentiment=hints.sentiment(text), language=hints.language(text))
    Conversation.objects.filter(pk=item.conversation_id).update(
        negative=hints.sentiment_label(hints.sentiment(text)) == "negative")


def test_an_edit_while_rehint_reads_keeps_the_hint_of_the_new_text(
        desk, monkeypatch):
    """The citizen edits the item after rehint read it: rehint wrote the
    old text's sentiment and language over the new text's (and the
    conversation's 'negative' with it)."""
    from kanal.inbox import rehint

    item = citizen_item(desk["channel"], TURNED)
    _as_old_rules_left_them(item, sentiment=3, language="no", negative=False)
    monkeypatch.setattr(rehint, "hints", _EditedMeanwhile(
        "language", lambda: _citizens_edit(item, NEUTRAL_NOW)))
    rehint.rehint()
    item.refresh_from_db()
    assert item.text == NEUTRAL_NOW
    assert (item.sentiment, item.language) == (
        hints.sentiment(NEUTRAL_NOW), hints.language(NEUTRAL_NOW))
    assert Conversation.objects.get(pk=item.conversation_id).negative is False


def test_an_edit_while_rehint_reads_conversations_keeps_their_negative(
        desk, monkeypatch):
    """The newest item is edited after rehint read the conversations: the
    'negative' of the text before stood."""
    from kanal.inbox import rehint

    item = citizen_item(desk["channel"], TURNED)
    Conversation.objects.filter(pk=item.conversation_id).update(negative=False)
    monkeypatch.setattr(rehint, "hints", _EditedMeanwhile(
        "sentiment_label", lambda: _citizens_edit(item, NEUTRAL_NOW)))
    rehint.rehint()
    assert Conversation.objects.get(pk=item.conversation_id).negative is False
