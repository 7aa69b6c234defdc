"""Every page, in every role, reads in one language.

Each role signs in and opens every page the access matrices let it open (as
the accessibility sweep enumerates them), once in English and once in Danish.
Of the visible text (the text between tags, ``<title>``, and the ``title``,
``aria-label``, ``placeholder`` and ``alt`` a person reads or hears):

- an English page must not contain a Danish msgid of the catalogue verbatim
  (msgids of 3 characters or less, and those the same in both languages, are
  not telling); a msgid with placeholders is looked for by its longer pieces;
- a Danish page must not contain a status value or its English label
  ("queued", "Published", "paused", "failed" ...).

Dates follow one style per language: Danish "5. dec. 2026", "5. december",
"ons. 9. dec."; English "5 Dec 2026", "5 December", "Wed 9 Dec". An English
page has no Danish weekday, month, "Uge" or "kl.", a Danish page no English
ones, and neither shows "5. Dec".
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.db import models

from kanal.core.tests import catalogue
from kanal.core.tests.a11y_world import ROLE_NAMES, build_world
from kanal.core.tests.test_a11y_sweep import pages_for

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", *ROLE_NAMES]
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[sdif]|\{[^}]*\}")
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}
# Text a machine reads (the CSV's column names) stays as it is.
MACHINE_TEXT = ("script", "style", "template", "code")
# The product's name is the same in every language ("Kanal", also the Danish
# msgid for "Channel").
NAMES = {"Kanal"}


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in MACHINE_TEXT:
            self._hidden += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in MACHINE_TEXT and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def _pattern(needles) -> re.Pattern:
    alternatives = sorted({re.escape(n) for n in needles}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def danish_msgids() -> re.Pattern:
    needles = set()
    for entry in catalogue.read():
        english = entry.msgstr.get(0, "")
        if entry.msgid == english or entry.msgid in NAMES:
            continue
        for piece in PLACEHOLDER.split(entry.msgid):
            piece = " ".join(piece.split()).strip(" .,:;·–-()")
            whole = piece == entry.msgid.strip(" .,:;·–-()")
            telling = len(piece) > 3 and (whole or len(piece) >= 12)
            if telling and piece not in english:
                needles.add(piece)
    return _pattern(needles)


def english_status_words() -> re.Pattern:
    """Status values and their English labels, where Danish never uses them."""
    from django.utils import translation

    danish = " ".join(e.msgid for e in catalogue.read()).lower()
    needles = set()
    with translation.override("en"):
        for choices in models.TextChoices.__subclasses__():
            if "status" not in choices.__name__.lower():
                continue
            for value, label in choices.choices:
                for word in (value, value.replace("_", " "), str(label)):
                    as_word = rf"(?<!\w){re.escape(word.lower())}(?!\w)"
                    if not re.search(as_word, danish):
                        needles.add(word)
                        needles.add(word.lower())
    return _pattern(needles)


ENGLISH_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Sept",
    "Oct",
    "Nov",
    "Dec",
]
# Danish month names spelt otherwise in English (any case), and those that
# are the same but written with a capital in English.
DANISH_MONTHS = ["januar", "februar", "marts", "maj", "juni", "juli", "oktober"]
LOWER_MONTHS = ["april", "august", "september", "november", "december"]
ENGLISH_DAYS = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Mon",
    "Tue",
    "Wed",
    "Thu",
    "Fri",
    "Sat",
    "Sun",
]
DANISH_DAYS = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]
DANISH_DAY_ABBREVIATIONS = ["man.", "tir.", "ons.", "tor.", "fre.", "lør.", "søn."]


def _words(words, flags=0) -> re.Pattern:
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")", flags)


def _whole_words(words, flags=0) -> re.Pattern:
    return re.compile(
        r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", flags
    )


# Words and styles that betray the other language, per page language.
WRONG_STYLE = {
    "en": [
        # "9. Dec", "7. December": a Danish day number in English.
        re.compile(r"\b\d{1,2}\. (?:" + "|".join(ENGLISH_MONTHS) + r")\b"),
        _whole_words(DANISH_MONTHS + DANISH_DAYS + ["Uge", "uge"], re.IGNORECASE),
        _words([*DANISH_DAY_ABBREVIATIONS, "kl."], re.IGNORECASE),
        _whole_words(LOWER_MONTHS),
    ],
    "da": [
        # "5. Dec", "5. December": an English month (or a capital) in Danish.
        re.compile(
            r"\b\d{1,2}\. (?:" + "|".join([*ENGLISH_MONTHS, "Maj", "Okt"]) + r")\b"
        ),
        # "5. dec 2026": an abbreviated month without its full stop.
        re.compile(r"\b\d{1,2}\. (?:jan|feb|aug|sept|okt|nov|dec)\b(?!\.)"),
        _whole_words([*ENGLISH_DAYS, "Week", "week"]),
    ],
}


def style_problems(text: str, language: str) -> list[str]:
    return sorted({m.group(0) for p in WRONG_STYLE[language] for m in p.finditer(text)})


def test_style_rules_tell_the_languages_apart():
    assert style_problems("ons. 9. dec. 2026 kl. 10:00, 5. marts", "da") == []
    assert style_problems("Wed 9 Dec 2026 10:00, 5 March, Week 50", "en") == []
    assert style_problems("7. Dec 2026, 9. dec 10:00, Wed, uge 50", "da") == [
        "7. Dec",
        "9. dec",
        "Wed",
    ]
    assert style_problems("Uge 50: tir. 9. Dec kl. 10, 1. december", "en") == [
        "9. Dec",
        "Uge",
        "december",
        "kl.",
        "tir.",
    ]


def test_visible_text_leaves_out_scripts_and_keeps_labels():
    text = visible_text(
        "<title>Opslag</title><script>var queued = 1;</script>"
        '<button aria-label="Luk">×</button><p>I <b>kø</b></p>'
    )
    assert text == "Opslag Luk × I kø"


@pytest.fixture
def world():
    """The accessibility world, with the post's variants sent and failed, so
    the post page shows publication states."""
    world = build_world()
    first, second = world.objects["post"].variants.order_by("pk")[:2]
    type(first).objects.filter(pk=first.pk).update(publication_status="queued")
    type(second).objects.filter(pk=second.pk).update(publication_status="failed")
    return world


def _read_pages(client, role, world, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if role != "anonymous":
        client.force_login(world.members[role].user)
    # Notifications are read in the reader's language (kanal.notifications),
    # so they are checked like every other text. Old rows copied over from
    # the sentence-storing models keep the sentence they were written in.
    from kanal.notifications.models import Notification

    notifications = [
        n.params["text"] for n in Notification.objects.all()
        if isinstance(n.params, dict) and "text" in n.params
    ]
    # What people wrote is theirs (a post's "Kladde om biblioteket", the
    # crisis template "Stormflod"): it stays in their language.
    from kanal.planning.models import Post, Variant

    written = [world.objects["crisis_template"].name]
    for post in Post.objects.all():
        written += [post.title, post.shared_text, post.proposal_reason]
    written += [v.text for v in Variant.objects.all()]
    # A feed's items and the suggestions made from them are its words.
    from kanal.sources.models import Source, SourceItem, Suggestion

    written += [s.name for s in Source.objects.all()]
    for item in SourceItem.objects.all():
        written += [item.title, item.location]
    written += [s.text for s in Suggestion.objects.all()]
    written = sorted((w for w in written if w), key=len, reverse=True)
    visits = pages_for(role, world)
    assert visits
    # Each tab of the publications page shows other publications (the
    # world's failed one is on "failed").
    from kanal.core.tests.test_a11y_sweep import Visit
    from kanal.publishing.selectors import OPERATION_GROUPS

    visits += [
        Visit(v.name, f"{v.url}?vis={group}")
        for v in visits
        if v.name == "publishing:operations"
        for group in OPERATION_GROUPS
    ]
    for visit in visits:
        response = client.get(visit.url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, (visit.url, response.status_code)
        text = visible_text(response.content.decode())
        for message in notifications + written:
            text = text.replace(" ".join(message.split()), " ")
        yield visit, text


@pytest.mark.parametrize("role", ROLES)
def test_english_pages_have_no_danish_text(client, world, role):
    danish = danish_msgids()
    found = {}
    for visit, text in _read_pages(client, role, world, "en"):
        hits = sorted(set(danish.findall(text))) + style_problems(text, "en")
        if hits:
            found[visit.url] = hits
    assert not found, "Danish text on English pages:\n" + "\n".join(
        f"  {url}: {hits}" for url, hits in found.items()
    )


@pytest.mark.parametrize("role", ROLES)
def test_danish_pages_have_no_english_status_words(client, world, role):
    english = english_status_words()
    found = {}
    for visit, text in _read_pages(client, role, world, "da"):
        hits = sorted(set(english.findall(text))) + style_problems(text, "da")
        if hits:
            found[visit.url] = hits
    assert not found, "English status words on Danish pages:\n" + "\n".join(
        f"  {url}: {hits}" for url, hits in found.items()
    )
