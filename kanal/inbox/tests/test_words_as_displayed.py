"""Assignment rules' keywords, the crisis words and the inbox search read a
citizen's text as a screen shows it: a zero-width character, a soft hyphen
or a bidi override inside a word, another Unicode form (full-width letters)
or a line break inside a phrase hides nothing."""

from __future__ import annotations

import pytest

from kanal.inbox import actions, hints
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

