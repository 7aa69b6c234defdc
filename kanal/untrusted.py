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
  clock's error beyond now, else None.
"""

from __future__ import annotations

import re
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
