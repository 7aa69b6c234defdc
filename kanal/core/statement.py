"""The accessibility statement (tilgængelighedserklæring), read from a TOML
file the organisation edits (setting ``KANAL_ACCESSIBILITY_STATEMENT``; the
default in ``core/accessibility/statement.toml`` is Kanal's own).

The sections follow the Agency for Digital Government's statements (WAS-Tool):
indhold, overholdelsesstatus, ikke-tilgængeligt indhold, udarbejdelse,
feedback og kontaktoplysninger, håndhævelsesprocedure.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

STATUSES = ("fuldt", "delvist", "ikke")


class StatementError(ValueError):
    """The statement file is missing, unreadable or incomplete."""


@dataclass(frozen=True)
class Problem:
    text: str
    criterion: str
    fixed_by: date | None


@dataclass(frozen=True)
class Statement:
    status: str
    standard: str
    prepared: date
    reviewed: date
    website: str
    was_url: str
    organisation: str
    scope: str
    method: str
    conforms: list[str]
    nonconforming: list[Problem]
    disproportionate_burden: str
    out_of_scope: str
    feedback: str
    feedback_fallback: str
    email: str
    phone: str
    response_days: int


def _text(table, language: str, name: str) -> str:
    if not isinstance(table, dict):
        raise StatementError(f"'{name}' skal have en dansk tekst (da).")
    value = table.get(language) or table.get("da")
    if not value:
        raise StatementError(f"'{name}' mangler en dansk tekst (da).")
    return value


def _date(value, name: str) -> date:
    if not isinstance(value, date):
        raise StatementError(f"'{name}' skal være en dato (ÅÅÅÅ-MM-DD).")
    return value


def load_statement(path: Path, language: str) -> Statement:
    """Read the statement at ``path`` in ``language`` (Danish as fallback)."""
    try:
        with Path(path).open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise StatementError(f"Tilgængelighedserklæringen kan ikke læses: {e}") from e
    status = data.get("status")
    if status not in STATUSES:
        raise StatementError(f"'status' skal være en af {', '.join(STATUSES)}.")
    feedback = data.get("feedback", {})
    problems = []
    for number, item in enumerate(data.get("nonconforming", []), start=1):
        fixed_by = item.get("fixed_by")
        problems.append(
            Problem(
                text=_text(item, language, f"nonconforming {number}"),
                criterion=str(item.get("criterion", "")),
                fixed_by=_date(fixed_by, "fixed_by") if fixed_by else None,
            )
        )
    conforms = data.get("conforms", {})
    return Statement(
        status=status,
        standard=str(data.get("standard", "WCAG 2.1 AA")),
        prepared=_date(data.get("prepared"), "prepared"),
        reviewed=_date(data.get("reviewed", data.get("prepared")), "reviewed"),
        website=str(data.get("website", "Kanal")),
        was_url=str(data.get("was_url", "")),
        organisation=_text(data.get("organisation"), language, "organisation"),
        scope=_text(data.get("scope"), language, "scope"),
        method=_text(data.get("method"), language, "method"),
        conforms=list(conforms.get(language) or conforms.get("da") or []),
        nonconforming=problems,
        disproportionate_burden=_text(
            data.get("disproportionate_burden"), language, "disproportionate_burden"
        ),
        out_of_scope=_text(data.get("out_of_scope"), language, "out_of_scope"),
        feedback=_text(feedback, language, "feedback"),
        feedback_fallback=feedback.get(f"fallback_{language}")
        or feedback.get("fallback_da", ""),
        email=str(feedback.get("email", "")),
        phone=str(feedback.get("phone", "")),
        response_days=int(feedback.get("response_days", 10)),
    )
