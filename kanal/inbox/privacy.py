"""Personal data in citizens' text: CPR numbers, phone numbers, e-mail and
street addresses. ``find`` says which kinds a text holds; ``mask`` replaces
them for lists and previews. Pure functions: no database.

The text is read as a screen shows it (``kanal.untrusted``): an invisible
character inside a number ("120385\u200b-1234") and a right-to-left override
that draws "4321-583021" as "120385-1234" hide nothing; what is found in the
stored order counts too.
"""

from __future__ import annotations

import bisect
import re
from datetime import date

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kanal import untrusted

#: Every dash a phone or a word processor types between the two parts of a
#: CPR number: hyphen-minus, hyphen, non-breaking hyphen, figure dash, en and
#: em dash, minus sign.
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
#: What citizens write between the day, month and year of a birth date
#: written as the date it is ("12.03.85", "12-03-85", "12/03/85", "12 03 85"
#: read aloud in pairs): one of them, the same twice.
DATE_SEPARATORS = f"{DASHES}./ "  # the hyphen-minus first: no range
# A birth date (six digits, or day, month and year as a date), then a dash
# or a slash (spaces around it or not), a space or nothing, then four more
# digits; not part of a longer number (a digit, or a digit and a dash, a
# dot or a slash, before it; a digit after it). A label glued to it with a dash
# ("CPR-1203851234", "cpr-nr-120385-1234") is no part of a number.
CPR = re.compile(
    rf"(?<!\d)(?<!\d[{DASHES}./])(?P<day>\d{{2}})"
    rf"(?:(?P<month>\d{{2}})(?P<year>\d{{2}})"
    rf"|(?P<sep>[{DATE_SEPARATORS}])(?P<dated_month>\d{{2}})(?P=sep)"
    rf"(?P<dated_year>\d{{2}}))"
    rf"(?:\s{{0,2}}[{DASHES}/]\s{{0,2}}|\s{{1,2}})?(?P<serial>\d{{4}})(?!\d)"
)
EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w])"
)
# Danish numbers: eight digits, alone or in pairs/fours, with +45 or 0045.
PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)45[\s-]?)?"
    r"(?:\d{8}|\d{4}[\s-]\d{4}|\d{2}[\s-]\d{2}[\s-]\d{2}[\s-]\d{2})(?![\w])"
)

# Street addresses. What ends a Danish street name, glued to it
# ("Nørrebrogade", "Rådhuspladsen") or a word of its own after a capitalised
# one ("Frederiksberg Allé", "H.C. Andersens Boulevard", "Islands Brygge").
_SUFFIXES = (
    "gade", "gaden", "vej", "vejen", "allé", "alle", "alléen", "plads",
    "pladsen", "boulevard", "boulevarden", "stræde", "strædet", "torv",
    "torvet", "vænge", "vænget", "brygge", "bryggen", "have", "haven", "park",
    "parken", "bakke", "bakken", "strand", "stranden", "kaj", "kajen", "bro",
    "broen", "vang", "vangen", "sti", "stien", "passage", "passagen",
)
# In lower case (citizens often write so) only the suffixes that are no
# everyday word: "børnehave 3 dage" or "arbejdsplads 2" is no address.
_LOWER_SUFFIXES = ("gade", "vej", "allé", "boulevard", "stræde")
# Everyday words with those suffixes ("motorvej 4", "en omvej 2 steder").
_NOT_STREETS = r"(?i:(?:motor|om|gen|hjem|cykel|gang|sti|kør)vej\b)"
_UPPER = "A-ZÆØÅÄÖÜÉ"
_LOWER = "a-zæøåäöüé"
_PREFIX_WORD = rf"(?:[{_UPPER}][{_LOWER}]{{1,40}}\.?|(?:[{_UPPER}]\.){{1,3}})"
_GLUED = "|".join(_SUFFIXES)
_OWN_WORD = "|".join(s.capitalize() for s in _SUFFIXES)
_STREET_NAME = (
    rf"(?:(?:{_PREFIX_WORD}[\s-]{{1,3}}){{0,3}}[{_UPPER}][{_LOWER}]{{0,40}}(?:{_GLUED})"
    rf"|(?:{_PREFIX_WORD}[\s-]{{1,3}}){{1,3}}(?:{_OWN_WORD})"
    rf"|(?!{_NOT_STREETS})(?i:[{_LOWER}]{{1,40}}(?:{'|'.join(_LOWER_SUFFIXES)})))"
)
# A house number (with a letter, or a range), not a count of something.
_NUMBER = (
    r"\d{1,4}(?!\d)(?:\s?-\s?\d{1,4}(?!\d))?(?:[A-Za-z]\b|\s[A-Z]\b)?"
    r"(?!\s*(?:dage?|gange?|timer?|minutter|min|kr|kroner|år|uger?|måneder?|km|"
    r"meter|m|procent|pct|stk|personer|mennesker|børn|elever)\b)"
)
# The floor and side: ", 3. th", ", st. tv", " 2. sal", " st.", ", kl.", " 1 mf".
_FLOOR = r"(?:(?:st|stuen|kld?)\b|\d{1,2}(?!\d))"
_SIDE = r"(?:th|tv|mf|sal)\b\.?"
_TAIL = (
    rf"(?:,\s*{_FLOOR}\.?(?:\s*{_SIDE})?"
    rf"|\s+{_FLOOR}\.(?:\s*{_SIDE})?"
    rf"|\s+{_FLOOR}\s*{_SIDE})?"
)
STREET = re.compile(rf"\b{_STREET_NAME}\s{{1,3}}{_NUMBER}{_TAIL}")

LABELS = {
    "cpr": _("CPR-nummer"),
    "phone": _("telefonnummer"),
    "email": _("e-mailadresse"),
    "address": _("gadeadresse"),
}
ORDER = ("cpr", "email", "phone", "address")


def valid_cpr_date(day: str, month: str, year: str) -> bool:
    """Whether DDMMYY is a real date in the 1900s or the 2000s."""
    d, m, y = int(day), int(month), int(year)
    for century in (1900, 2000):
        try:
            date(century + y, m, d)
        except ValueError:
            continue
        return True
    return False


def _cpr_spans(text: str) -> list[tuple[int, int]]:
    return [
        match.span()
        for match in CPR.finditer(text)
        if valid_cpr_date(match["day"], match["month"] or match["dated_month"],
                          match["year"] or match["dated_year"])
    ]


_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")
#: Every kind needs a digit (``\d``: any script's) or an "@": a text with
#: neither holds none, and the list masks 50 texts a page.
_CANDIDATE = re.compile(r"[\d@]")


def _spans(text: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of every finding, without overlaps, in order."""
    if not _CANDIDATE.search(text):
        return []
    return _all_spans(text)


def _readings(text: str) -> list[tuple[str, list[int]]]:
    """``text`` as stored and as displayed, both without format characters,
    each with the index in ``text`` of every character."""
    stored = untrusted.without_format(text)
    shown = untrusted.as_displayed(text)
    return [stored] if shown[0] == stored[0] else [stored, shown]


def _all_spans(text: str) -> list[tuple[str, int, int]]:
    """``_spans`` without the shortcut for texts that can hold nothing; a
    finding in a reading covers every character of ``text`` it was read from
    (and the invisible ones between them)."""
    found: list[tuple[str, int, int]] = []
    # What earlier kinds took, as sorted starts and their ends (taken spans
    # never overlap): a span is free when it ends before the next taken one
    # starts and starts after the one before it ends. Comparing with every
    # taken span made a long text of many numbers quadratic (seconds for
    # one comment of 100,000 characters, on every list page showing it).
    starts: list[int] = []
    ends: list[int] = []

    def free(start: int, end: int) -> bool:
        at = bisect.bisect_right(starts, start)
        return (at == 0 or ends[at - 1] <= start) and (
            at == len(starts) or end <= starts[at])

    patterns = {
        "cpr": _cpr_spans,
        "email": lambda t: [m.span() for m in EMAIL.finditer(t)],
        "phone": lambda t: [m.span() for m in PHONE.finditer(t)],
        "address": lambda t: [m.span() for m in STREET.finditer(t)],
    }
    readings = _readings(text)
    for kind in ORDER:
        for reading, origin in readings:
            for start, end in patterns[kind](reading):
                start, end = min(origin[start:end]), max(origin[start:end]) + 1
                if free(start, end):
                    found.append((kind, start, end))
                    at = bisect.bisect_right(starts, start)
                    starts.insert(at, start)
                    ends.insert(at, end)
    return sorted(found, key=lambda f: f[1])


def find(text: str) -> list[str]:
    """The kinds of personal data in ``text``, in a fixed order."""
    kinds = {kind for kind, _start, _end in _spans(text or "")}
    return [kind for kind in ORDER if kind in kinds]


def mask(text: str) -> str:
    """``text`` with every finding replaced by ``[<kind> skjult]`` (isolated
    from the bidi controls around it, so that an override cannot draw it
    backwards)."""
    text = text or ""
    out, last = [], 0
    isolate = ("\u2068", "\u2069") if _BIDI_CONTROL.search(text) else ("", "")
    for kind, start, end in _spans(text):
        out.append(text[last:start])
        out.append(isolate[0] + gettext("[%(kind)s skjult]") % {"kind": LABELS[kind]}
                   + isolate[1])
        last = end
    out.append(text[last:])
    return "".join(out)


def labels(kinds: list[str]) -> list[str]:
    return [str(LABELS[k]) for k in kinds if k in LABELS]
