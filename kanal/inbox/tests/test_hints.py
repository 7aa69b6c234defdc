"""Hints: Danish sentiment and language, shown and filtered as hints."""

from __future__ import annotations

import pytest

from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox import hints, selectors
from kanal.inbox.models import Conversation
from kanal.inbox.policies import conversation_policy
from kanal.organisations.roles import Role

from .factories import citizen_item


def test_danish_sentiment_from_the_lexicon():
    assert hints.sentiment_label(hints.sentiment(
        "Tak for en fantastisk dag, super godt arbejde")) == "positive"
    assert hints.sentiment_label(hints.sentiment(
        "Det er en skandale, I er elendige og dumme")) == "negative"
    assert hints.sentiment_label(hints.sentiment("Hvornår åbner I?")) == "neutral"
    assert hints.sentiment_label(None) == ""


def test_language_is_told_only_when_there_is_enough_text():
    assert hints.language("Hvornår har Borgerservice åbent på lørdag?") == "da"
    assert hints.language("When does the library open on Saturday morning?") == "en"
    assert hints.language("👍👍") == ""
    assert hints.language("ok") == ""


@pytest.mark.django_db
def test_items_carry_hints_and_the_list_filters_negative(organisation, member):
    editor = member(Role.EDITOR)
    channel = ChannelFactory(organisation=organisation)
    angry = citizen_item(channel, "Det er en skandale, I er elendige og dumme")
    citizen_item(channel, "Tak for en fantastisk dag, super godt arbejde")
    assert angry.sentiment < 0 and angry.language == "da"
    found = selectors.conversations(conversation_policy.visible(editor),
                                    selectors.Filters(negative=True))
    assert list(found) == [Conversation.objects.get(pk=angry.conversation_id)]


@pytest.mark.django_db
def test_crisis_words_raise_priority_only_during_crisis_mode(organisation, member):
    from kanal.publishing.models import Crisis

    editor = member(Role.EDITOR)
    channel = ChannelFactory(organisation=organisation)
    before = citizen_item(channel, "Der er vand i kælderen efter skybruddet!")
    Crisis.objects.create(organisation=organisation, reason="Skybrud")
    during = citizen_item(channel, "Hjælp os, vandet stiger på Amagerbrogade")
    calm = citizen_item(channel, "Hvornår åbner biblioteket?")
    for item in (before, during, calm):
        item.conversation.refresh_from_db()
    assert [before.conversation.priority, during.conversation.priority,
            calm.conversation.priority] == [False, True, False]
    listed = list(selectors.conversations(conversation_policy.visible(editor),
                                          selectors.Filters()))
    assert listed[0] == during.conversation
