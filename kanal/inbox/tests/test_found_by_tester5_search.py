"""OUTSIDE TESTER 5a (branch tester5a): the list's search as a hostile
person types it. Each test names its finding (T5a-N)."""

from __future__ import annotations

import pytest

from kanal.inbox import selectors
from kanal.inbox.policies import conversation_policy

from .factories import citizen_item

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("q", "finds"), [
    ("-parkering", {"parkering"}),  # a minus is text, not "without"
    ("parkering or huller", set()),  # "or" is a word, not "either"
    ("parkering OR huller", set()),
    ('"skolen ved"', {"parkering"}),  # quotes are text: both words, any order
])
def test_t5a_8_search_syntax_is_text_on_both_databases(desk, q, finds):
    """T5a-8: search syntax is meant to be searched as text (the FTS5 query
    quotes every word), but on PostgreSQL the search read it as web search
    operators: "-parkering" listed every conversation WITHOUT parkering,
    the opposite of SQLite's answer, and "parkering or huller" found
    either. Both databases now find every word, whatever is around it."""
    texts = {"parkering": "Parkering ved skolen", "huller": "Huller i vejen"}
    by_text = {name: citizen_item(desk["channel"], text).conversation
               for name, text in texts.items()}
    found = set(selectors.conversations(
        conversation_policy.visible(desk["editor"]), selectors.Filters(q=q)))
    assert found == {by_text[name] for name in finds}
