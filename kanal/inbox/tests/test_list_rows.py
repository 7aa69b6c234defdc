"""The list's rows, written without a template tag per row (``inbox_tags``):
the same links, counts and dates as Django's own tags wrote them, in Danish
and in English."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.template.defaultfilters import truncatechars
from django.urls import reverse, set_script_prefix
from django.utils import dateformat, timezone, translation
from hypothesis import given, settings
from hypothesis.strategies import characters, integers, text

from kanal.core.formatting import STYLES
from kanal.inbox.templatetags.inbox_tags import detail_url, masked, preview

from .factories import citizen_item

pytestmark = pytest.mark.django_db


def row(page: str, conversation_id: int) -> str:
    return re.search(rf'<tr id="conversation-{conversation_id}".*?</tr>', page,
                     re.S).group(0)


@pytest.mark.parametrize(("language", "two"), [("da", "(2 henvendelser)"),
                                                ("en", "(2 items)")])
def test_a_row_links_counts_and_dates_as_django_s_tags_wrote_them(
        desk, client_for, language, two):
    channel = desk["channel"]
    single = citizen_item(channel, "Hej", remote_id="one").conversation
    double = citizen_item(channel, "Spørgsmål", remote_id="two").conversation
    citizen_item(channel, "Og en til", remote_id="two-b", kind="reply",
                 parent="two")
    client = client_for(desk["editor"])
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get("/indbakke/").content.decode()
    double.refresh_from_db()
    with translation.override(language):
        moment = dateformat.format(timezone.localtime(double.last_item_at),
                                   STYLES["datetime"][language == "en"])
    written = row(page, double.pk)
    assert f'<a href="{reverse("inbox:detail", args=[double.pk])}" ' in written
    assert re.search(rf'<td data-label="[^"<>]+">{re.escape(moment)}</td>', written)
    assert f'<span class="muted">{two}</span>' in written
    assert "henvendelse" not in row(page, single.pk).replace("Ingen henvendelser", "")
    assert "(1 " not in row(page, single.pk)


def test_the_row_link_follows_the_script_prefix(desk):
    """Kanal served below a path (a reverse proxy's SCRIPT_NAME)."""
    try:
        set_script_prefix("/kanal/")
        assert detail_url(42) == reverse("inbox:detail", args=[42]) == (
            "/kanal/indbakke/42/")
    finally:
        set_script_prefix("/")
    assert detail_url(42) == "/indbakke/42/"


@settings(max_examples=300, deadline=None)
@given(text=text(alphabet=characters(codec="utf-8"), max_size=400)
       | text(alphabet="ae\u0301\u0308 \u0344o1234567890-", max_size=400),
       length=integers(min_value=1, max_value=200))
def test_a_preview_is_the_masked_text_as_truncatechars_cuts_it(text, length):
    """The row's preview (``preview``) is ``masked|truncatechars``, to the
    letter: combining accents, letters that compose, CPR numbers."""
    assert preview(text, length) == truncatechars(masked(text), length)
