"""Guards for values Kanal did not make itself.

Everything a network answers (permalinks, profile addresses, names, error
texts), every query parameter and every redirect target is untrusted. The
helpers here are the one place that says what is acceptable:

- ``safe_url`` (from ``kanal.untrusted``, the rules without Django): only
  absolute ``http``/``https`` addresses survive, so a hostile instance
  answering ``javascript:…`` can never become a link;
- ``plain_text``: a network's text with control characters removed and a
  length cap, for names and error messages that are stored and shown;
- ``header_value``: a single-line value for an e-mail header (a carriage
  return in a title would otherwise make Django refuse the whole message);
- ``query_day`` / ``query_id``: query-string dates and ids bounded to what
  the database and the calendar can hold, with a Danish 400 otherwise;
- ``safe_next``: a ``next`` target only when it stays on this site.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from urllib.parse import urlsplit

from django.core.exceptions import BadRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

# The rules themselves live where the network package can use them too.
from kanal.untrusted import CONTROL as _CONTROL
from kanal.untrusted import clean_text, safe_url
from kanal.untrusted import has_control as has_control

#: The calendar, reports and filters accept days in this window. Outside it
#: (year 1, year 9999) date arithmetic overflows, and nothing Kanal plans or
#: records can lie there.
MIN_DAY = date(2000, 1, 1)
MAX_DAY = date(2099, 12, 31)
#: The largest id a database row can have (a signed 64-bit integer).
MAX_ID = 2**63 - 1

_INTEGER = re.compile(r"([+-]?)([0-9]+)")


class InvalidInput(BadRequest):
    """A value from the request that Kanal refuses; ``str()`` is Danish and
    says which value and what to do. Answered with 400."""


def safe_link(value, *, max_length: int = 1000) -> str:
    """``safe_url``, or a path on this site (``/kanaler/5/``; never ``//``)."""
    if (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and len(value) <= max_length
        and not _CONTROL.search(value)
        and not any(ch.isspace() for ch in value)
    ):
        return value
    return safe_url(value, max_length=max_length)


def plain_text(value, *, max_length: int = 500) -> str:
    """A network's text as one clean line: no control or formatting characters
    that could hide or reorder what a person reads, no lone surrogates, at most
    ``max_length``."""
    if value is None:
        return ""
    text = str(value)
    text = "".join(
        " " if _CONTROL.match(ch) else ch
        for ch in text
        # Cs: a lone surrogate (a JSON escape like \ud800), which no database
        # driver can encode.
        if unicodedata.category(ch) not in ("Cf", "Cs") or ch == "\u200d"
    )
    text = " ".join(text.split())
    if len(text) > max_length:
        text = text[: max_length - 1].rstrip() + "…"
    return text


def header_value(value, *, max_length: int = 150) -> str:
    """A value fit for an e-mail header: one line, no control characters."""
    return plain_text(value, max_length=max_length)


def check_day(value: date | datetime | None, *, label: str = "") -> None:
    """Raise ``InvalidInput`` for a day outside ``MIN_DAY``..``MAX_DAY``."""
    if value is None:
        return
    day = value.date() if isinstance(value, datetime) else value
    if MIN_DAY <= day <= MAX_DAY:
        return
    raise InvalidInput(day_window_message(label))


def day_window_message(label: str = "") -> str:
    message = _(
        "Datoen skal ligge mellem %(first)s og %(last)s. Vælg en anden dato."
    ) % {"first": f"{MIN_DAY:%d.%m.%Y}", "last": f"{MAX_DAY:%d.%m.%Y}"}
    if label:
        return f"{label}: {message}"
    return message


def in_window(value: date | datetime | None) -> bool:
    if value is None:
        return True
    day = value.date() if isinstance(value, datetime) else value
    return MIN_DAY <= day <= MAX_DAY


def query_day(raw: str | None, *, label: str = "") -> date | None:
    """A ``YYYY-MM-DD`` query value: ``None`` when empty or unreadable (the
    page then shows its default), ``InvalidInput`` when outside the window."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        return None
    check_day(day, label=label)
    return day


def query_month(raw: str | None) -> tuple[int, int] | None:
    """A ``YYYY-MM`` query value as (year, month); ``None`` when unreadable,
    ``InvalidInput`` when the month lies outside the window."""
    if not raw:
        return None
    try:
        year_text, month_text = raw.strip().split("-")
        year, month = int(year_text), int(month_text)
        first = date(year, month, 1)
    except (ValueError, OverflowError):
        return None
    check_day(first)
    return year, month


def query_id(raw: str | None, *, label: str = "") -> int | None:
    """An id from the query string: ``None`` when empty or not a number,
    ``InvalidInput`` when it cannot be an id (negative or ≥ 2^63)."""
    if raw is None:
        return None
    text = str(raw).strip()
    match = _INTEGER.fullmatch(text)
    if match is None:
        return None
    sign, digits = match.groups()
    digits = digits.lstrip("0") or "0"
    if sign == "-" and digits != "0":
        raise InvalidInput(id_message(label))
    if len(digits) > 19 or int(digits) > MAX_ID:
        raise InvalidInput(id_message(label))
    return int(digits)


def typed_text(raw, *, max_length: int | None) -> str:
    """Free text typed into a form field that is read without a Django form
    (a reason, a comment), or a citizen's text from a network
    (``untrusted.clean_text``: line breaks and tabs kept, other control
    characters removed, a lone surrogate made U+FFFD, at most
    ``max_length``)."""
    return clean_text(raw, max_length=max_length)


def query_text(raw: str | None, *, max_length: int = 100) -> str:
    """A free-text query value (a category name): at most ``max_length``;
    ``InvalidInput`` for control characters (PostgreSQL refuses a NUL byte in
    a query, and no stored name contains one)."""
    if not raw:
        return ""
    text = str(raw)[:max_length]
    if _CONTROL.search(text):
        raise InvalidInput(unsearchable_message())
    return text


def unsearchable_message() -> str:
    return _(
        "Adressen indeholder tegn, som Kanal ikke kan søge efter. Vælg i "
        "listen i stedet for at skrive adressen."
    )


def id_message(label: str = "") -> str:
    message = _(
        "Tallet i adressen er ikke et gyldigt nummer. Vælg i listen i stedet "
        "for at skrive adressen."
    )
    return f"{label}: {message}" if label else message


def safe_next(request, value, fallback: str) -> str:
    """``value`` when it is a path or address on this site, else ``fallback``.

    Uses Django's own check (the host must be the request's host, the scheme
    https when the request is secure), and refuses anything that is not a
    path starting with one slash, so ``next=foo`` or ``//evil`` never reach
    ``redirect()``.
    """
    if not isinstance(value, str) or not value or len(value) > 2000:
        return fallback
    if not url_has_allowed_host_and_scheme(
        value,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    ):
        return fallback
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return fallback
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return fallback
    return value
