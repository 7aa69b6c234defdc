import pytest
from hypothesis import given
from hypothesis import strategies as st

from kanal.channels.networks import text

FAMILY = "👨\u200d👩\u200d👧\u200d👦"
FLAG_DK = "🇩🇰"
THUMB_MEDIUM = "👍🏽"
KEYCAP_ONE = "1\ufe0f\u20e3"
E_ACUTE_DECOMPOSED = "e\u0301"
SCOTLAND = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", 0),
        ("æøå", 3),
        (FAMILY, 1),
        (FLAG_DK, 1),
        (FLAG_DK + FLAG_DK, 2),
        (THUMB_MEDIUM, 1),
        (KEYCAP_ONE, 1),
        (E_ACUTE_DECOMPOSED, 1),
        (SCOTLAND, 1),
        ("日本語", 3),
        ("hej 👋", 5),
    ],
)
def test_grapheme_count_counts_user_perceived_characters(value, expected):
    assert text.grapheme_count(value) == expected


def test_graphemes_keeps_emoji_sequences_whole():
    assert text.graphemes(f"a{FAMILY}b") == ["a", FAMILY, "b"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("abc", 3), ("æøå", 6), ("€", 3), (FAMILY, 25), (FLAG_DK, 8), ("日本", 6)],
)
def test_utf8_length_counts_bytes(value, expected):
    assert text.utf8_length(value) == expected


def test_byte_span_gives_utf8_offsets_after_multibyte_letters():
    value = "Blåbær #voreskbh"
    tag = text.find_hashtags(value)[0]
    assert (tag.start, tag.end) == (7, 16)
    assert text.byte_span(value, tag.start, tag.end) == (9, 18)
    assert value.encode()[9:18].decode() == "#voreskbh"


# -- URLs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Læs mere på https://www.kk.dk/kultur", ["https://www.kk.dk/kultur"]),
        ("http://kk.dk", ["http://kk.dk"]),
        ("HTTPS://KK.DK/Side", ["HTTPS://KK.DK/Side"]),
        ("se kk.dk/kultur?uge=48&sprog=da.", ["kk.dk/kultur?uge=48&sprog=da"]),
        ("www.kk.dk, og", ["www.kk.dk"]),
        ("kk.dk", ["kk.dk"]),
        ("example.com/a#b", ["example.com/a#b"]),
        ("(se https://kk.dk/a_(b))", ["https://kk.dk/a_(b)"]),
        ("(se kk.dk/bade)", ["kk.dk/bade"]),
        ("https://kk.dk:8443/x", ["https://kk.dk:8443/x"]),
        ("to: a.dk og b.com", ["a.dk", "b.com"]),
        ("見てexample.com中国語", ["example.com"]),
        ("https://københavn.dk/", ["https://københavn.dk/"]),
        ("https://kk.dk/søg?q=æøå", ["https://kk.dk/søg?q="]),  # ASCII queries
        (
            "http://twitter.com/これは日本語です。example.com中国語",
            ["http://twitter.com/", "example.com"],
        ),
        ("Følg @kk_dk på x.com/kk_dk", ["x.com/kk_dk"]),
        ("kl. 14.00 bl.a. f.eks. osv.", []),
        ("skriv til anna@kk.dk", []),
        ("foo.invalidtld", []),
        ("v1.2.3", []),
        ("#kk.dk", []),
        ("$kk.dk", []),
    ],
)
def test_find_urls_follows_twitter_text(value, expected):
    assert text.extract_urls(value) == expected


def test_url_entity_span_points_at_the_url():
    value = "Bad: www.kk.dk/bade."
    (url,) = text.find_urls(value)
    assert value[url.start : url.end] == "www.kk.dk/bade"


# -- hashtags and mentions ----------------------------------------------------


def test_hashtags_accept_danish_letters_and_digits():
    value = "#voreskbh og #KøbenhavnsKommune, #år2026 #æøå! ＃fuldbredde"
    assert text.extract_hashtags(value) == [
        "voreskbh",
        "KøbenhavnsKommune",
        "år2026",
        "æøå",
        "fuldbredde",
    ]


@pytest.mark.parametrize(
    "value",
    ["#1", "#2026", "a#b", "&#39;", "kk.dk/#top", "https://kk.dk/side#afsnit", "#️⃣"],
)
def test_not_a_hashtag(value):
    assert text.extract_hashtags(value) == []


def test_hashtag_entity_includes_the_hash_sign():
    value = "Godt gået #voreskbh"
    (tag,) = text.find_hashtags(value)
    assert value[tag.start : tag.end] == "#voreskbh"


def test_mentions_cover_every_networks_handle_style():
    value = "@kk_dk @kobenhavn.bsky.social @kk@mastodon.dk @Københavns_Kommune."
    assert text.extract_mentions(value) == [
        "kk_dk",
        "kobenhavn.bsky.social",
        "kk@mastodon.dk",
        "Københavns_Kommune",
    ]


def test_email_address_is_not_a_mention():
    assert text.extract_mentions("skriv til anna@kk.dk") == []


def test_x_mentions_are_ascii_and_at_most_15_characters():
    value = "@kk_dk @kobenhavn.bsky.social @ab_cdefghijklmnop @æøå @Kbh2026"
    assert [m.value for m in text.find_x_mentions(value)] == [
        "kk_dk",
        "kobenhavn",
        "Kbh2026",
    ]


def test_find_entities_orders_by_position():
    entities = text.find_entities("Se kk.dk/x #voreskbh @kk")
    assert [(e.kind, e.value) for e in entities] == [
        ("url", "kk.dk/x"),
        ("hashtag", "voreskbh"),
        ("mention", "kk"),
    ]


# -- X weighted length --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hej", 3),
        ("æøå", 3),
        ("Ærø", 3),
        (E_ACUTE_DECOMPOSED, 1),  # NFC first: é
        ("日本語", 6),
        ("한국어", 6),
        (FAMILY, 2),
        (FLAG_DK, 2),
        (THUMB_MEDIUM, 2),
        (KEYCAP_ONE, 2),
        (SCOTLAND, 2),
        ("❤️", 2),
        ("❤", 2),  # U+2764 outside the light ranges
        ("1", 1),
        ("©", 2),  # twitter-text lists © as an emoji
        ("a\u200db", 3),  # ZWJ outside an emoji weighs 1
        ("‘citat’ — “så”", 14),  # U+2018–201D and U+2014 are light
        ("…", 2),  # U+2026 is just past the light U+2010–201F
        ("€", 2),  # U+20AC is not in a light range
        ("𝔘", 2),  # astral, not an emoji
        ("https://www.kk.dk/en/meget/lang/sti?med=query&og=mere", 23),
        ("kk.dk", 23),
        ("https://kk.dk/søg?q=æøå", 23 + 3),
        ("Se http://kk.dk og www.kk.dk/bade", 3 + 23 + 4 + 23),
        (f"{FLAG_DK} #voreskbh", 2 + 1 + 9),
    ],
)
def test_x_weighted_length(value, expected):
    assert text.x_weighted_length(value) == expected


def test_x_text_at_the_limit_is_valid_and_one_over_is_not():
    assert text.parse_x_text("a" * 280).is_valid
    over = text.parse_x_text("a" * 281)
    assert over.weighted_length == 281
    assert not over.is_valid
    assert over.remaining == -1


def test_x_limit_with_double_weight_characters():
    assert text.parse_x_text("日" * 140).is_valid
    assert not text.parse_x_text("日" * 141).is_valid
    assert text.parse_x_text(FAMILY * 140).is_valid
    assert text.parse_x_text(FAMILY * 140 + "a").weighted_length == 281


def test_x_limit_with_a_url():
    value = "https://www.kk.dk/" + " " + "a" * 256
    assert text.parse_x_text(value).weighted_length == 280
    assert text.parse_x_text(value).is_valid
    assert not text.parse_x_text(value + "b").is_valid


def test_x_text_lists_its_urls():
    assert text.parse_x_text("Se kk.dk/x og https://a.dk").urls == (
        "kk.dk/x",
        "https://a.dk",
    )


def test_x_empty_or_invalid_characters_are_not_valid():
    assert not text.parse_x_text("").is_valid
    assert not text.parse_x_text("hej\ufffe").is_valid


def test_mastodon_length_counts_urls_as_23_and_remote_mentions_short():
    value = f"hej @kk@mastodon.dk se https://www.kk.dk/en/meget/lang/sti {FAMILY}"
    assert text.mastodon_length(value) == 4 + 3 + 4 + 23 + 1 + 1


# -- properties ---------------------------------------------------------------

# No "." means no URL can form, so every character is counted by weight.
no_url_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=".:/"),
    max_size=60,
)
emoji_bits = st.sampled_from(
    [FAMILY, FLAG_DK, THUMB_MEDIUM, KEYCAP_ONE, "\u200d", "\ufe0f", "🏽", "👍"]
)
mixed_text = st.lists(st.one_of(no_url_text, emoji_bits), max_size=8).map("".join)


@given(mixed_text)
def test_weighted_length_is_at_least_the_number_of_graphemes(value):
    assert text.x_weighted_length(value) >= text.grapheme_count(text.normalize(value))


@given(mixed_text)
def test_weighted_length_is_at_most_two_per_code_point(value):
    assert text.x_weighted_length(value) <= 2 * len(text.normalize(value))


@given(mixed_text, st.one_of(no_url_text.filter(bool), emoji_bits))
def test_appending_never_makes_the_count_smaller(value, addition):
    assert text.x_weighted_length(value + addition) >= text.x_weighted_length(value)


@given(mixed_text)
def test_weighted_length_is_the_same_before_and_after_nfc(value):
    assert text.x_weighted_length(value) == text.x_weighted_length(
        text.normalize(value)
    )


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_/", max_size=300))
def test_any_url_counts_23_however_long(path):
    assert text.x_weighted_length(f"Se https://www.kk.dk/{path}") == 3 + 23
