"""What Kanal accepts of a value it did not make: the rules themselves.

Plain Python, importing nothing of Django or of Kanal's apps, so that both
the network package (``kanal.channels.networks``, which may import neither)
and ``kanal.core.safety`` (which adds the Django parts: Danish 400s, the
request's own host) say the same thing about an id, an address, a text or a
time that came from outside:

- ``usable_id``: an id as Kanal stores it (at most ``ID_LIMIT`` characters,
  made of an id's characters), or "" when it cannot be one;
- ``safe_url``: only absolute ``http``/``https`` addresses survive;
- ``clean_text``: line breaks and tabs kept, other control characters
  removed, a lone UTF-16 half made U+FFFD;
- ``without_control``: every control character and lone UTF-16 half
  removed (a feed's GUID, a cursor: text that is no id and keeps no lines);
- ``plausible_time``: an aware time between social media's start and a
  clock's error beyond now, else None; ``happened_by``: the same, at most now;
  ``network_order_time``: the same, kept up to ``CLOCK_SKEW`` ahead of now
  (to order a network's own events among themselves), else at most now;
- ``without_format`` and ``as_displayed``: a text as a screen shows it
  (without the invisible format characters; in the order the bidirectional
  algorithm draws it), with where each character came from, for whatever
  looks for something in a text a person reads; ``as_read``: that text as
  a reader compares it with what they typed (a keyword, a name).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

#: The longest id a network may give: the id columns hold 200 characters.
ID_LIMIT = 200
#: The longest address Kanal keeps (the URL columns hold 1000).
URL_LIMIT = 1000
#: No network's answer is older than this (Facebook opened to all in 2006;
#: nothing Kanal reads lies before 2004).
EARLIEST_YEAR = 2004
#: How far ahead of Kanal's clock a network's time may be (a clock's error).
CLOCK_SLACK = timedelta(days=1)
#: How far ahead of Kanal's clock a network's clock may run and still order
#: its own events (edits, hides): minutes, as two servers' clocks drift;
#: a time further ahead is that network's error, counted as now.
CLOCK_SKEW = timedelta(minutes=15)

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: Half of a UTF-16 pair alone (JSON's "\ud800"): no database stores it.
SURROGATE = re.compile("[\ud800-\udfff]")
_TYPED_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: What the seven networks' ids are made of: digits (X, Meta, Mastodon),
#: ``_`` (Facebook's ``page_post``), AT URIs with DIDs (``at://did:plc:…/…``,
#: ``%3A`` in a did:web), LinkedIn's URNs with ``(…,…)``, Messenger's
#: base64 ``m_…=``. Never a space, a quote, a brace, ``?``, ``#``, ``\\`` or
#: anything outside ASCII, so an id can neither be an object printed as text
#: nor reach outside its place in a request's path.
_ID = re.compile(r"[A-Za-z0-9._~:/@%,()+=-]+")
_SAFE_SCHEMES = frozenset({"http", "https"})


def has_control(value: str) -> bool:
    """Whether ``value`` holds a control character (tab and line breaks too)
    or a lone surrogate: never in an id or an address."""
    return bool(CONTROL.search(value) or SURROGATE.search(value))


def usable_id(value) -> str:
    """``value`` as an id Kanal can store and send back, or "".

    A network's id is text or a whole number; anything else (null, a boolean,
    an object, a fraction) is no id, nor is text that is empty, longer than
    ``ID_LIMIT``, with a character no id has (``_ID``) or holding a ``..`` step.
    """
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        value = str(value) if value >= 0 else ""
    if not isinstance(value, str) or not value or len(value) > ID_LIMIT:
        return ""
    if not _ID.fullmatch(value) or ".." in value:
        return ""
    return value


def safe_url(value, *, max_length: int = URL_LIMIT) -> str:
    """``value`` if it is an absolute http(s) address, else ``""``.

    Refused: other schemes (``javascript:``, ``data:``, ``vbscript:``),
    relative and scheme-relative addresses, addresses without a host,
    whitespace or control characters anywhere (browsers strip some of them
    and would then see a different scheme), and over-long values.
    """
    if not isinstance(value, str):
        return ""
    if not value or len(value) > max_length:
        return ""
    if has_control(value) or any(ch.isspace() for ch in value):
        return ""
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return ""
    if parts.scheme.lower() not in _SAFE_SCHEMES or not host:
        return ""
    return value


def without_control(raw) -> str:
    """``raw`` as text with every control character (line breaks and tabs
    too, C1 controls, U+2028/U+2029) and every lone surrogate removed, and
    no surrounding whitespace."""
    if raw is None:
        return ""
    return SURROGATE.sub("", CONTROL.sub("", str(raw))).strip()


def clean_text(raw, *, max_length: int | None) -> str:
    """Free text from outside (a citizen's, a network's, a form's): line
    breaks and tabs kept, other control characters removed (PostgreSQL
    refuses a NUL byte), a lone surrogate made U+FFFD, at most
    ``max_length`` (None: no limit)."""
    if not raw:
        return ""
    text = SURROGATE.sub("\ufffd", _TYPED_CONTROL.sub("", str(raw)))
    return text if max_length is None else text[:max_length]


def plausible_time(value, *, now: datetime | None = None) -> datetime | None:
    """``value`` if it can be when something happened on a network: an aware
    datetime from ``EARLIEST_YEAR`` on and at most ``CLOCK_SLACK`` after
    ``now``; else None (no zone, year 1, year 9999, not a time at all)."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        return None
    now = now or datetime.now(UTC)
    try:
        if value.astimezone(UTC).year < EARLIEST_YEAR or value > now + CLOCK_SLACK:
            return None
    except (OverflowError, ValueError):
        return None
    return value


def happened_by(value, *, now: datetime) -> datetime | None:
    """``plausible_time`` for something that has already happened (an item
    written, a post published), never after ``now``: a time ahead of Kanal's
    clock is the other clock's error, and counting from it would make a
    target later and keep the row on top of newer ones until the clocks
    meet; it counts as ``now``, when Kanal got it."""
    value = plausible_time(value, now=now)
    return None if value is None else min(value, now)


def network_order_time(value, *, now: datetime) -> datetime | None:
    """``plausible_time`` for ordering one network's events among themselves
    (an item's edits, hides and deletions, T7b-5): as the network stamped
    it up to ``CLOCK_SKEW`` ahead of ``now`` (its clock minutes ahead of
    Kanal's: pulled back to now, two edits would be ordered by when Kanal
    processed them); further ahead, its clock's error, so ``now``
    (``happened_by``: the next event is newer)."""
    value = plausible_time(value, now=now)
    if value is None:
        return None
    return value if value <= now + CLOCK_SKEW else now


def without_format(text: str) -> tuple[str, list[int]]:
    """``text`` without its format characters (Unicode category Cf: zero-width
    spaces and joiners, the soft hyphen, the byte-order mark, bidi controls),
    which no screen draws, and the index in ``text`` of each character kept."""
    kept = [i for i, ch in enumerate(text) if unicodedata.category(ch) != "Cf"]
    return "".join(text[i] for i in kept), kept


#: The explicit bidi controls that open a level: (its direction, the
#: direction it forces on what it holds). PDF and PDI close one.
_OPENERS = {
    "\u202a": ("L", None), "\u202b": ("R", None),  # LRE, RLE
    "\u202d": ("L", "L"), "\u202e": ("R", "R"),  # LRO, RLO
    "\u2066": ("L", None), "\u2067": ("R", None), "\u2068": ("L", None),  # isolates
}
_CLOSERS = frozenset("\u202c\u2069")
_MAX_LEVEL = 125
_PARAGRAPH = re.compile(r"[\n\r\x1c-\x1e\x85\u2029]")
_STRONG_RTL = frozenset({"R", "AL"})
_NEUTRAL = frozenset({"B", "S", "WS", "ON"})


def as_displayed(text: str) -> tuple[str, list[int]]:
    """``text`` in the order a screen draws it from left to right, without its
    format characters, and the index in ``text`` of each character shown.

    A right-to-left override ("\\u202e4321-583021\\u202c" is drawn as
    "120385-1234") or right-to-left letters and marks around numbers change
    what a reader sees; this follows the Unicode bidirectional algorithm
    (UAX #9) closely enough for that: explicit levels, the weak and neutral
    types, the implicit levels and the reordering of each line, each
    paragraph's direction from its first strong letter (as ``dir="auto"``).
    Isolates count as embeddings."""
    if not any(ch in _OPENERS or unicodedata.bidirectional(ch) in _STRONG_RTL
               for ch in text):
        return without_format(text)
    order: list[int] = []
    start = 0
    for separator in [*_PARAGRAPH.finditer(text), None]:
        end = separator.start() if separator else len(text)
        order += _paragraph(text, start, end)
        if separator:
            order.append(end)
            start = end + 1
    shown = [i for i in order if unicodedata.category(text[i]) != "Cf"]
    return "".join(text[i] for i in shown), shown


def as_read(text: str) -> str:
    """``text`` as a person reads it, to compare with what someone typed (a
    keyword, a name): in NFKC (full-width letters and ligatures as the
    letters they look like), as a screen shows it (``as_displayed``), case
    folded, and every run of white space (a line break too) one space."""
    shown = as_displayed(unicodedata.normalize("NFKC", text or ""))[0]
    return " ".join(shown.casefold().split())


def _paragraph(text: str, start: int, end: int) -> list[int]:
    """The indices of ``text[start:end]`` (one paragraph) in display order."""
    base = next((1 if kind in _STRONG_RTL else 0 for kind in map(
        unicodedata.bidirectional, text[start:end]) if kind in ("L", "R", "AL")), 0)
    stack = [(base, None)]
    kept, types, levels = [], [], []
    for i in range(start, end):
        ch = text[i]
        level, override = stack[-1]
        if ch in _OPENERS:
            direction, forced = _OPENERS[ch]
            odd = direction == "R"
            deeper = level + 1 if (level + 1) % 2 == odd else level + 2
            stack.append((deeper, forced) if deeper <= _MAX_LEVEL else stack[-1])
            continue
        if ch in _CLOSERS:
            if len(stack) > 1:
                stack.pop()
            continue
        kind = unicodedata.bidirectional(ch) or "L"
        if kind == "BN":
            continue
        kept.append(i)
        types.append(override or kind)
        levels.append(level)
    run = 0
    while run < len(kept):
        stop = run
        while stop < len(kept) and levels[stop] == levels[run]:
            stop += 1
        _resolve(types, run, stop, levels[run])
        run = stop
    for k, kind in enumerate(types):
        if levels[k] % 2 == 0:
            levels[k] += {"R": 1, "AN": 2, "EN": 2}.get(kind, 0)
        elif kind in ("L", "EN", "AN"):
            levels[k] += 1
    line = list(zip(levels, kept, strict=True))
    odd_levels = [lv for lv in levels if lv % 2]
    for level in range(max(levels, default=0), min(odd_levels, default=1) - 1, -1):
        k = 0
        while k < len(line):
            if line[k][0] < level:
                k += 1
                continue
            j = k
            while j < len(line) and line[j][0] >= level:
                j += 1
            line[k:j] = line[k:j][::-1]
            k = j
    return [i for _level, i in line]


def _resolve(types: list[str], a: int, b: int, level: int) -> None:
    """The weak and neutral rules (W1-W7, N1-N2) on ``types[a:b]``, one run
    of a level, in place."""
    edge = "R" if level % 2 else "L"
    last = edge
    for k in range(a, b):
        if types[k] == "NSM":
            types[k] = types[k - 1] if k > a else edge
        if types[k] in ("L", "R", "AL"):
            last = types[k]
        elif types[k] == "EN" and last == "AL":
            types[k] = "AN"
    for k in range(a, b):
        if types[k] == "AL":
            types[k] = "R"
    for k in range(a + 1, b - 1):
        before, after = types[k - 1], types[k + 1]
        if types[k] == "ES" and before == after == "EN":
            types[k] = "EN"
        elif types[k] == "CS" and before == after and before in ("EN", "AN"):
            types[k] = before
    k = a
    while k < b:
        if types[k] != "ET":
            k += 1
            continue
        j = k
        while j < b and types[j] == "ET":
            j += 1
        if (k > a and types[k - 1] == "EN") or (j < b and types[j] == "EN"):
            types[k:j] = ["EN"] * (j - k)
        k = j
    last = edge
    for k in range(a, b):
        if types[k] in ("ES", "ET", "CS"):
            types[k] = "ON"
        if types[k] in ("L", "R"):
            last = types[k]
        elif types[k] == "EN" and last == "L":
            types[k] = "L"
    k = a
    while k < b:
        if types[k] not in _NEUTRAL:
            k += 1
            continue
        j = k
        while j < b and types[j] in _NEUTRAL:
            j += 1
        left = edge if k == a else ("L" if types[k - 1] == "L" else "R")
        right = edge if j == b else ("L" if types[j] == "L" else "R")
        types[k:j] = [left if left == right else edge] * (j - k)
        k = j
