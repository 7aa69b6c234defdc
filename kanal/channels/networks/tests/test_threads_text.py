"""Threads counts characters, but an emoji as its UTF-8 bytes."""

import pytest

from kanal.channels.networks.base import Connection, OutgoingPost
from kanal.channels.networks.threads import ThreadsAdapter, threads_length
from sandbox.networks.threads import text_length as emulator_length

CASES = [
    ("", 0),
    ("Hej København", 13),
    ("æøå ÆØÅ", 7),
    ("日本", 2),
    ("Hej 👋", 8),
    ("🇩🇰", 8),  # two regional indicators, 4 bytes each
    ("🇩🇰🇸🇪", 16),
    ("👨‍👩‍👧", 18),  # three emoji joined by two ZWJ (3 bytes each)
    ("👨‍👩‍👧‍👦", 25),
    ("👍🏽", 8),  # skin tone modifier
    ("❤️", 6),  # U+2764 + VS16
    ("❤", 1),  # no VS16: text presentation
    ("©", 1),
    ("©️", 5),
    ("1️⃣", 7),  # keycap
    ("🏴󠁧󠁢󠁥󠁮󠁧󠁿", 28),  # flag of England, tag sequence
    ("e\u0301", 2),  # combining accent: counted per code point
    ("é", 1),
    ("Svøm 🏊‍♀️ i havnen", 5 + 13 + 9),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_threads_length(text, expected):
    assert threads_length(text) == expected


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_emulator_counts_the_same_way(text, expected):
    assert emulator_length(text) == expected


ADAPTER = ThreadsAdapter(Connection(network="threads",
                                    base_url="http://127.0.0.1:9/v1.0"))


def test_five_hundred_characters_fit_and_an_emoji_can_tip_it_over():
    assert ADAPTER.validate(OutgoingPost(text="a" * 500)) == []
    assert ADAPTER.validate(OutgoingPost(text="a" * 496 + "😀")) == []
    problems = ADAPTER.validate(OutgoingPost(text="a" * 497 + "😀"))
    assert [(p.code, p.actual, p.limit) for p in problems] == [
        ("text_too_long", 501, 500)]
    assert "Forkort den med 1 tegn" in problems[0].message
    assert "emoji" in ADAPTER.capabilities().text_counting


def test_flags_count_eight_each_in_validation():
    text = "🇩🇰" * 62 + "abcd"
    assert ADAPTER.count_text(text) == 500
    assert ADAPTER.validate(OutgoingPost(text=text)) == []
    assert ADAPTER.validate(OutgoingPost(text=text + "e"))[0].actual == 501


def test_more_than_five_links_is_refused():
    links = " ".join(f"https://www.kk.dk/side{i}" for i in range(5))
    assert ADAPTER.validate(OutgoingPost(text=links)) == []
    problems = ADAPTER.validate(OutgoingPost(text=links, link="https://kk.dk/6"))
    assert [(p.code, p.actual) for p in problems] == [("too_many_links", 6)]
    assert problems[0].field == "link"


def test_empty_post_is_refused():
    assert [p.code for p in ADAPTER.validate(OutgoingPost(text="  "))] == [
        "text_empty"]
