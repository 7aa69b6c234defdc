"""Counting and parsing post text the way each network does.

Shared by every adapter's ``count_text`` and ``validate``. Pure functions, no
I/O. Positions in ``Entity`` are indices into the string as given (Python
code points); ``byte_span`` turns them into UTF-8 byte offsets (Bluesky
facets need those).

- ``grapheme_count``: user-perceived characters (``\\X``), as Bluesky and
  Mastodon count.
- ``utf8_length``: bytes, as Bluesky's 3000-byte cap and Threads count.
- ``find_urls`` / ``find_hashtags`` / ``find_mentions``: entities with spans.
- ``x_weighted_length`` / ``parse_x_text``: X's weighted length (twitter-text
  v3 configuration: 280, code-point weights, URLs 23, an emoji 2).
- ``mastodon_length``: graphemes, with each URL as 23 and ``@user@domain`` as
  ``@user``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import regex

__all__ = [
    "X_MAX_WEIGHTED_LENGTH",
    "X_URL_LENGTH",
    "Entity",
    "XText",
    "byte_span",
    "extract_hashtags",
    "extract_mentions",
    "extract_urls",
    "find_entities",
    "find_hashtags",
    "find_mentions",
    "find_urls",
    "find_x_mentions",
    "grapheme_count",
    "graphemes",
    "mastodon_length",
    "normalize",
    "parse_x_text",
    "utf8_length",
    "x_weighted_length",
]

X_MAX_WEIGHTED_LENGTH = 280
X_URL_LENGTH = 23  # every URL becomes a t.co link of this length
MASTODON_URL_LENGTH = 23

# twitter-text v3 configuration: code points in these ranges weigh 1 (100 at
# scale 100), everything else 2; an emoji sequence weighs 2 as a whole.
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_X_DEFAULT_WEIGHT = 2
_X_EMOJI_WEIGHT = 2
# Code points X treats as making a text invalid.
_X_INVALID_CHARS = frozenset("\ufffe\ufeff\uffff")


def normalize(text: str) -> str:
    """NFC, as X counts (é typed as e + U+0301 is one character)."""
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------
# Graphemes and bytes

_GRAPHEME = regex.compile(r"\X")


def graphemes(text: str) -> list[str]:
    """The extended grapheme clusters of ``text`` (👨‍👩‍👧‍👦 is one)."""
    return _GRAPHEME.findall(text)


def grapheme_count(text: str) -> int:
    return len(_GRAPHEME.findall(text))


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def byte_span(text: str, start: int, end: int) -> tuple[int, int]:
    """UTF-8 byte offsets of ``text[start:end]`` within ``text``."""
    byte_start = utf8_length(text[:start])
    return byte_start, byte_start + utf8_length(text[start:end])


# --------------------------------------------------------------------------
# Entities


@dataclass(frozen=True)
class Entity:
    """A URL, hashtag or mention found in a text.

    ``value`` is the URL as written, or the tag/handle without ``#``/``@``.
    ``start``/``end`` index the text passed in (``text[start:end]`` is the
    whole entity including ``#`` or ``@``).
    """

    kind: str  # "url" | "hashtag" | "mention"
    value: str
    start: int
    end: int


# Top-level domains that a URL without a scheme must end in. Country codes are
# complete; generic ones are those seen in practice.
_CCTLD_LIST = """
    ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi
    bj bm bn bo br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu
    cv cw cx cy cz de dj dk dm do dz ec ee eg er es et eu fi fj fk fm fo fr ga
    gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id
    ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la
    lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms
    mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph
    pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk
    sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt
    tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw
    """
_CCTLDS = frozenset(_CCTLD_LIST.split())
_GTLD_LIST = """
    com net org edu gov mil int info biz name pro aero coop museum mobi asia tel
    travel jobs cat app dev page blog shop store online site website xyz top club
    news tech cloud art social email live life world today city berlin paris
    london amsterdam nyc wien koeln hamburg earth green eco io ai media studio
    design agency digital network systems solutions center support help link
    click space fun games game video photo photos music film events community
    foundation ngo ong school university education academy careers work jobs
    health care energy law legal museum library bike taxi travel tours
    """
_GTLDS = frozenset(_GTLD_LIST.split())
_TLD_ALTERNATION = "|".join(sorted(_CCTLDS | _GTLDS, key=lambda tld: (-len(tld), tld)))
# After a scheme any script may name a host (IDN); a bare domain must be
# Latin, and may touch other scripts ("見てexample.com中国語" holds a link).
_IDN_LABEL = r"[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}_\-]*[\p{L}\p{N}\p{M}])?"
_LATIN_LABEL = r"[\p{Latin}0-9](?:[\p{Latin}\p{M}0-9_\-]*[\p{Latin}\p{M}0-9])?"
_TLD = rf"(?:{_TLD_ALTERNATION}|xn--[a-z0-9\-]+)(?![a-z0-9@＠+\-])"
_URL = regex.compile(
    rf"""
    (?:
      (?<![a-z0-9@＠$#＃_])
      (?P<scheme>https?://)(?:{_IDN_LABEL}\.)+{_TLD}
    |
      (?<![\p{{Latin}}0-9@＠$#＃_\-./])
      (?:{_LATIN_LABEL}\.)+{_TLD}
    )
    (?::[0-9]{{1,5}})?
    (?:/[\p{{Latin}}\p{{Cyrillic}}\u0300-\u036f0-9!*';:=+,.$/%\#\[\]\-_~&|@()]*)?
    (?:\?[a-z0-9!?*'();:&=+$/%\#\[\]\-_.,~|@]*)?
    """,
    regex.IGNORECASE | regex.VERBOSE | regex.V1,
)
_URL_TRAILING_PUNCTUATION = ".,;:!?'*"


def _trim_url_end(url: str) -> str:
    """Drop trailing punctuation and unbalanced closing brackets."""
    while url and (
        url[-1] in _URL_TRAILING_PUNCTUATION
        or (url[-1] == ")" and url.count(")") > url.count("("))
        or (url[-1] == "]" and url.count("]") > url.count("["))
    ):
        url = url[:-1]
    return url


def find_urls(text: str) -> list[Entity]:
    """http(s) URLs and bare domains (``kk.dk/kultur``, ``www.kk.dk``).

    Follows twitter-text v3 within reason: a known top-level domain is
    required, so "kl.14.00" and "bl.a." are text while "kk.dk" is a link.
    """
    found = []
    for match in _URL.finditer(text):
        url = _trim_url_end(match.group(0))
        if not url:
            continue
        start = match.start()
        found.append(Entity("url", url, start, start + len(url)))
    return found


_HASHTAG_CHARS = r"\p{L}\p{M}\p{N}_\u200c\u200d\u00b7"
_HASHTAG = regex.compile(
    rf"""
    (?<![&{_HASHTAG_CHARS}])
    [#＃](?![\ufe0f\u20e3])
    (?P<tag>[{_HASHTAG_CHARS}]*[\p{{L}}\p{{M}}][{_HASHTAG_CHARS}]*)
    (?![#＃]|://)
    """,
    regex.VERBOSE | regex.V1,
)
# Any network's handle: X/Instagram names, Bluesky domains, Mastodon
# ``user@instance`` (the value keeps the instance).
_MENTION = regex.compile(
    r"""
    (?<![\p{L}\p{N}\p{M}_!#$%&*@＠.\-])
    [@＠]
    (?P<handle>
      [\p{L}\p{N}_](?:[\p{L}\p{N}\p{M}_.\-]*[\p{L}\p{N}\p{M}_])?
      (?:@[\p{L}\p{N}](?:[\p{L}\p{N}_.\-]*[\p{L}\p{N}])?\.[\p{L}]{2,})?
    )
    """,
    regex.VERBOSE | regex.V1,
)
# X usernames: ASCII letters, digits, underscore, at most 15.
_X_MENTION = regex.compile(
    r"""
    (?<![A-Za-z0-9_!#$%&*@＠\p{Latin}])
    [@＠](?P<handle>[A-Za-z0-9_]{1,15})
    (?![A-Za-z0-9_@＠\p{Latin}]|://)
    """,
    regex.VERBOSE | regex.V1,
)


def _outside(entities: list[Entity], spans: list[Entity]) -> list[Entity]:
    return [
        e
        for e in entities
        if not any(e.start < s.end and s.start < e.end for s in spans)
    ]


def find_hashtags(text: str) -> list[Entity]:
    """Hashtags with Unicode letters (``#voreskbh``, ``#københavn``).

    A tag needs at least one letter (``#1`` is not a tag) and is never part
    of a URL (``kk.dk/#top``).
    """
    tags = [
        Entity("hashtag", m["tag"], m.start(), m.end()) for m in _HASHTAG.finditer(text)
    ]
    return _outside(tags, find_urls(text))


def find_mentions(text: str) -> list[Entity]:
    """@-mentions in any network's handle style (not e-mail addresses)."""
    mentions = [
        Entity("mention", m["handle"], m.start(), m.end())
        for m in _MENTION.finditer(text)
    ]
    return _outside(mentions, find_urls(text))


def find_x_mentions(text: str) -> list[Entity]:
    """@-mentions as X recognises them (ASCII, at most 15 characters)."""
    mentions = [
        Entity("mention", m["handle"], m.start(), m.end())
        for m in _X_MENTION.finditer(text)
    ]
    return _outside(mentions, find_urls(text))


def find_entities(text: str) -> list[Entity]:
    """URLs, hashtags and mentions, in order of position."""
    return sorted(
        find_urls(text) + find_hashtags(text) + find_mentions(text),
        key=lambda e: e.start,
    )


def extract_urls(text: str) -> list[str]:
    return [e.value for e in find_urls(text)]


def extract_hashtags(text: str) -> list[str]:
    return [e.value for e in find_hashtags(text)]


def extract_mentions(text: str) -> list[str]:
    return [e.value for e in find_mentions(text)]


# --------------------------------------------------------------------------
# X weighted length

# A grapheme cluster is an emoji when it starts with an emoji-presentation
# code point (incl. a lone skin tone), a regional indicator (flags), an emoji
# followed by VS16, a keycap or a skin tone, or © and ® (twitter-text lists
# them). "1" and "❤" without VS16 are text and weigh by code point.
_EMOJI_CLUSTER_START = regex.compile(
    r"[\u00a9\u00ae]|\p{Emoji_Presentation}|\p{Regional_Indicator}"
    r"|[0-9#*]\ufe0f?\u20e3|\p{Emoji}\ufe0f"
    r"|\p{Emoji_Modifier_Base}(?=\p{Emoji_Modifier})",
    regex.V1,
)
# Parts of an emoji sequence that the sequence's weight already covers.
_EMOJI_SEQUENCE_PART = regex.compile(
    r"[\ufe0e\ufe0f\u20e3\u200d\U000e0020-\U000e007f]|\p{Emoji_Modifier}"
    r"|\p{Extended_Pictographic}|\p{Regional_Indicator}",
    regex.V1,
)


def _x_char_weight(char: str) -> int:
    code = ord(char)
    for low, high in _X_LIGHT_RANGES:
        if low <= code <= high:
            return 1
    return _X_DEFAULT_WEIGHT


def _x_plain_weight(text: str) -> int:
    total = 0
    for cluster in _GRAPHEME.findall(text):
        if _EMOJI_CLUSTER_START.match(cluster):
            # Marks stacked on an emoji still count, as on X.
            total += _X_EMOJI_WEIGHT + sum(
                _x_char_weight(c)
                for c in cluster[1:]
                if not _EMOJI_SEQUENCE_PART.match(c)
            )
        else:
            total += sum(_x_char_weight(c) for c in cluster)
    return total


@dataclass(frozen=True)
class XText:
    """X's view of a text: weighted length and whether it can be posted."""

    weighted_length: int
    max_length: int
    urls: tuple[str, ...]
    has_invalid_characters: bool

    @property
    def is_valid(self) -> bool:
        return (
            0 < self.weighted_length <= self.max_length
            and not self.has_invalid_characters
        )

    @property
    def remaining(self) -> int:
        return self.max_length - self.weighted_length


def parse_x_text(text: str, *, max_length: int = X_MAX_WEIGHTED_LENGTH) -> XText:
    normalized = normalize(text)
    urls = find_urls(normalized)
    total = 0
    position = 0
    for url in urls:
        total += _x_plain_weight(normalized[position : url.start]) + X_URL_LENGTH
        position = url.end
    total += _x_plain_weight(normalized[position:])
    return XText(
        weighted_length=total,
        max_length=max_length,
        urls=tuple(u.value for u in urls),
        has_invalid_characters=any(c in _X_INVALID_CHARS for c in normalized),
    )


def x_weighted_length(text: str) -> int:
    """The length X checks against 280 (``parse_x_text(text).weighted_length``)."""
    return parse_x_text(text).weighted_length


# --------------------------------------------------------------------------
# Mastodon


def mastodon_length(text: str, *, url_length: int = MASTODON_URL_LENGTH) -> int:
    """Graphemes, with each URL as ``url_length`` and remote mentions short.

    Mastodon counts ``@user@instance.social`` as ``@user``.
    """
    urls = find_urls(text)
    total = 0
    position = 0
    for url in urls:
        total += _mastodon_plain(text[position : url.start]) + url_length
        position = url.end
    return total + _mastodon_plain(text[position:])


def _mastodon_plain(text: str) -> int:
    shortened = _MENTION.sub(lambda m: "@" + m["handle"].split("@", 1)[0], text)
    return grapheme_count(shortened)
