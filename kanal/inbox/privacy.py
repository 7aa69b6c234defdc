"""Personal data in citizens' text: CPR numbers, phone numbers, e-mail and
street addresses. ``find`` says which kinds a text holds; ``mask`` replaces
them for lists and previews. Pure functions: no database.
"""

from __future__ import annotations

import re
from datetime import date

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# Six digits of a birth date, an optional dash or space, four more digits,
# not part of a longer number.
CPR = re.compile(r"(?<![\d-])(\d{2})(\d{2})(\d{2})[-\s]?(\d{4})(?![\d])")
EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w])"
)
# Danish numbers: eight digits, alone or in pairs/fours, with +45 or 0045.
PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)45[\s-]?)?"
    r"(?:\d{8}|\d{4}[\s-]\d{4}|\d{2}[\s-]\d{2}[\s-]\d{2}[\s-]\d{2})(?![\w])"
)
STREET = re.compile(
    r"\b[A-ZÆØÅ][a-zæøåé]+(?:gade|vej|allé|alle|plads|boulevard|stræde|torv|"
    r"vænge|brygge|have|park|bakke|strand)\s+\d{1,4}\s?[A-Za-z]?\b"
    r"(?:,\s*\d{1,2}\.?\s*(?:th|tv|mf|sal)?\.?)?"
)

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
        if valid_cpr_date(match[1], match[2], match[3])
    ]


def _spans(text: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of every finding, without overlaps, in order."""
    found: list[tuple[str, int, int]] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    patterns = {
        "cpr": _cpr_spans,
        "email": lambda t: [m.span() for m in EMAIL.finditer(t)],
        "phone": lambda t: [m.span() for m in PHONE.finditer(t)],
        "address": lambda t: [m.span() for m in STREET.finditer(t)],
    }
    for kind in ORDER:
        for start, end in patterns[kind](text):
            if free(start, end):
                found.append((kind, start, end))
                taken.append((start, end))
    return sorted(found, key=lambda f: f[1])


def find(text: str) -> list[str]:
    """The kinds of personal data in ``text``, in a fixed order."""
    kinds = {kind for kind, _start, _end in _spans(text or "")}
    return [kind for kind in ORDER if kind in kinds]


def mask(text: str) -> str:
    """``text`` with every finding replaced by ``[<kind> skjult]``."""
    text = text or ""
    out, last = [], 0
    for kind, start, end in _spans(text):
        out.append(text[last:start])
        out.append(gettext("[%(kind)s skjult]") % {"kind": LABELS[kind]})
        last = end
    out.append(text[last:])
    return "".join(out)


def labels(kinds: list[str]) -> list[str]:
    return [str(LABELS[k]) for k in kinds if k in LABELS]
