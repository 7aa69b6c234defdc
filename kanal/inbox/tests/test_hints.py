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


#: Citizens' sentences as they write them, with the hint a reader would give.
SENTENCES = [
    # Negation: the word after "ikke" counts the other way.
    ("Det er ikke godt nok", "negative"),
    ("Ikke dårligt, tak for hjælpen", "positive"),
    ("Jeg er ikke sur, bare forvirret", "neutral"),
    ("Ikke særlig god oplevelse i Borgerservice", "negative"),
    ("Det er ikke god service", "negative"),
    # Questions that ask, not complain; and one that complains to the desk.
    ("Der er vand i kælderen, er det akut?", "neutral"),
    ("Er det farligt at bade i havnen i dag?", "neutral"),
    ("Er der problemer med vandet på Vesterbro?", "neutral"),
    ("Hvorfor er I så dårlige til at svare?", "negative"),
    ("Jeg kan ikke logge ind med MitID på jeres side. Kan I hjælpe?", "neutral"),
    # Compounds and inflections the word list lacks.
    ("Affaldsproblemet er ikke løst", "negative"),
    ("Parkeringsproblemet i Valby bliver værre", "negative"),
    # As before.
    ("Tak for en fantastisk dag, super godt arbejde", "positive"),
    ("Det er en skandale, I er elendige og dumme", "negative"),
    ("Hvornår åbner I?", "neutral"),
    ("Cykelstien på Nørrebrogade er farlig", "negative"),
]


@pytest.mark.parametrize(("text", "label"), SENTENCES)
def test_sentiment_reads_negation_questions_and_compounds(text, label):
    assert hints.sentiment_label(hints.sentiment(text)) == label


@pytest.mark.parametrize(("text", "words"), [
    ("Der er vand i kælderen, er det akut?", ["vand i kælder", "akut"]),
    ("Der er brand i opgangen", ["brand"]),
    ("Kælderbranden breder sig", ["brand"]),
    ("Trafikulykken på Amagerbrogade spærrer vejen", ["ulykke"]),
    ("Ring 112, han trækker ikke vejret", ["112"]),
    # A crisis word as the first part of a compound, or inside a number.
    ("Brandstationen på Nørrebro har åbent hus", []),
    ("Tak for brandvejledningen", []),
    ("Der lugter af røgelse i kirken", []),
    ("Jeg er ulykkelig over parkeringen", []),
    ("Akutmodtagelsen har lang ventetid", []),
    ("Vi bor i 1120 København K", []),
])
def test_crisis_words_in_danish_compounds(text, words):
    assert hints.crisis_words(text) == words


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
