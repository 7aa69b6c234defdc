"""OUTSIDE TESTER 2 (branch tester2): failing tests for how citizens'
names and text show in the inbox pages. Each test names its finding in
/work/briefs/findings2.md. They fail on main as of 39dbe77."""

from __future__ import annotations

import re

import pytest

from .factories import citizen_item

pytestmark = pytest.mark.django_db

NAME = "محمد علي"
TEXT = "مرحبا، متى يفتح المسبح؟"


def _isolated(html: str, value: str) -> bool:
    """Whether ``value`` sits in an element of its own direction: ``<bdi>``
    or an element with ``dir="auto"`` whose content is the value."""
    pattern = (r'<bdi[^>]*>\s*' + re.escape(value) + r'\s*</bdi>|'
               r'<(\w+)[^>]*\bdir="auto"[^>]*>\s*' + re.escape(value) + r'\s*</\1>')
    return re.search(pattern, html) is not None


@pytest.fixture
def arabic(desk, client_for):
    item = citizen_item(desk["channel"], TEXT, author=NAME)
    for _n in range(2):  # "(3 henvendelser)" follows the name in the list
        citizen_item(desk["channel"], TEXT, author=NAME,
                     kind="reply", parent=item.remote_id)
    return item, client_for(desk["editor"])


def test_finding_15_a_right_to_left_name_is_isolated_in_the_list(arabic):
    """Finding 15: the list shows the author's name in a plain ``<a>``
    followed by "(3 henvendelser)", and the latest text in a ``<p>`` without
    ``dir="auto"`` (the conversation page has it on the text). An Arabic or
    Hebrew name pulls the count and punctuation after it into its
    right-to-left run ("(henvendelser 3)"), and a right-to-left comment is
    laid out left to right."""
    _item, client = arabic
    html = client.get("/indbakke/").content.decode()
    assert NAME in html and TEXT in html
    assert _isolated(html, NAME), "the name is not isolated"
    assert _isolated(html, TEXT), "the text has no dir=auto in the list"


def test_finding_15_and_on_the_conversation_page(arabic):
    """Finding 15: on the conversation page the name is a bare ``<strong>``
    followed by " · Kommentar · <time>"."""
    item, client = arabic
    html = client.get(f"/indbakke/{item.conversation_id}/").content.decode()
    assert NAME in html
    assert _isolated(html, NAME)
