"""Assignment rules' keywords, the crisis words and the inbox search read a
citizen's text as a screen shows it: a zero-width character, a soft hyphen
or a bidi override inside a word, another Unicode form (full-width letters)
or a line break inside a phrase hides nothing."""

from __future__ import annotations

import pytest

from kanal.inbox import actions, hints, selectors
from kanal.inbox.policies import conversation_policy
from kanal.organisations.roles import Role

from .factories import citizen_item

pytestmark = pytest.mark.django_db

HIDDEN_SKOLE = [
    "Hvornår starter sko\u200ble\u200dn?",  # zero-width space and joiner
    "Hvornår starter sko\u00adlen?",  # soft hyphen
    "Hvornår starter \u202eneloks\u202c?",  # drawn right to left: skolen
    "Hvornår starter ＳＫＯＬＥＮ?",  # full-width (NFKC: SKOLEN)
]


@pytest.mark.parametrize("text", HIDDEN_SKOLE)
def test_a_keyword_rule_assigns_the_text_as_it_is_shown(desk, member, text):
    actions.add_assignment_rule(actor=member(Role.ADMIN),
                                administration=desk["buf"], keyword="Skole")
    conversation = citizen_item(desk["channel"], text).conversation
    conversation.refresh_from_db()
    assert conversation.assigned_administration == desk["buf"]


def test_a_keyword_rule_does_not_assign_a_text_without_the_word(desk, member):
    actions.add_assignment_rule(actor=member(Role.ADMIN),
                                administration=desk["buf"], keyword="skole")
    conversation = citizen_item(desk["channel"], "Hvornår åbner sko-\nvognen?"
                                ).conversation
    conversation.refresh_from_db()
    assert conversation.assigned_administration is None


def test_a_keyword_with_an_invisible_character_typed_into_it_still_matches(
        desk, member):
    actions.add_assignment_rule(actor=member(Role.ADMIN),
                                administration=desk["buf"], keyword="sko\u200ble")
    conversation = citizen_item(desk["channel"], "Hvornår starter skolen?"
                                ).conversation
    conversation.refresh_from_db()
    assert conversation.assigned_administration == desk["buf"]


@pytest.mark.parametrize(("text", "words"), [
    ("Der er \u202eredlæk i dnav\u202c nu", ["vand i kælder"]),
    ("Der er vand i\nkælderen", ["vand i kælder"]),
    ("ＳＫＹＢＲＵＤ over byen", ["skybrud"]),
    ("sky\u00adbrud og over\u200bsvømmelse", ["oversvøm", "skybrud"]),
])
def test_crisis_words_are_read_as_shown(text, words):
    assert hints.crisis_words(text) == words


@pytest.mark.parametrize("text", [
    "Hvornår åbner svømme\u200bhallen?",  # zero-width space
    "Hvornår åbner svømme\u00adhallen?",  # soft hyphen
    "Hvornår åbner svøm\u200dmehallen?",  # zero-width joiner
    "Hvornår åbner \u2066svømmehallen\u2069?",  # an isolate around it
    "Hvornår åbner ＳＶØＭＭＥＨＡＬＬＥＮ?",  # full-width (NFKC: SVØMMEHALLEN)
])
def test_search_finds_a_word_with_an_invisible_character_inside(desk, member,
                                                                 text):
    conversation = citizen_item(desk["channel"], text).conversation
    visible = conversation_policy.visible(member(Role.EDITOR))
    found = selectors.conversations(visible, selectors.Filters(q="svømmehallen"))
    assert list(found) == [conversation]


def test_a_query_pasted_with_an_invisible_character_finds_the_word(desk, member):
    conversation = citizen_item(desk["channel"], "Svømmehallen er lukket"
                                ).conversation
    visible = conversation_policy.visible(member(Role.EDITOR))
    assert list(selectors.conversations(visible, selectors.Filters(
        q="svømme\u00adhallen"))) == [conversation]


def test_search_finds_a_name_with_an_invisible_character_inside(desk, member):
    conversation = citizen_item(desk["channel"], "Tak", author="Met\u200dte Hansen"
                                ).conversation
    visible = conversation_policy.visible(member(Role.EDITOR))
    assert list(selectors.conversations(
        visible, selectors.Filters(q="mette"))) == [conversation]


# As the migration runs (outside a transaction): PostgreSQL creates no index
# on a table with trigger events pending in the transaction.
@pytest.mark.django_db(transaction=True)
def test_items_indexed_before_are_indexed_again_as_shown(desk, member):
    """Migration 0020: rows indexed with their invisible characters (as
    before it) are found once indexed again."""
    from dataclasses import replace

    from django.db import connection

    from kanal.core import fts
    from kanal.inbox import search

    conversation = citizen_item(desk["channel"], "Hvornår åbner svømme\u200bhallen?"
                                ).conversation
    if connection.vendor == "sqlite":
        fts.remove(connection, search.SQLITE_INDEX)
        fts.ensure(connection, replace(search.SQLITE_INDEX, shown=False))
    else:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE inbox_inboxitem SET search_vector = to_tsvector("
                           "'pg_catalog.danish', text || ' ' || author_name)")
    visible = conversation_policy.visible(member(Role.EDITOR))
    wanted = selectors.Filters(q="svømmehallen")
    assert list(selectors.conversations(visible, wanted)) == []
    assert search.index_again(connection, batch=1) == 1
    assert list(selectors.conversations(visible, wanted)) == [conversation]


def test_the_invisible_ranges_are_every_format_character():
    import sys
    import unicodedata

    from kanal.inbox import search

    listed = {c for a, b in search.INVISIBLE_RANGES for c in range(a, b + 1)}
    assert listed == {c for c in range(sys.maxunicode + 1)
                      if unicodedata.category(chr(c)) == "Cf"}
