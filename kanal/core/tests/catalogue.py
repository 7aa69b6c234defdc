"""The English catalogue read as data, for the translation checks."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CATALOGUE = ROOT / "kanal" / "locale" / "en" / "LC_MESSAGES" / "django.po"


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    plural: str | None = None
    msgstr: dict = field(default_factory=dict)  # index (0 when singular) → text
    flags: set = field(default_factory=set)

    @property
    def key(self) -> tuple:
        return (self.msgctxt, self.msgid)


def read(path: Path = CATALOGUE) -> list[Entry]:
    """Every entry of a .po file but the header (obsolete ``#~`` ones left out)."""
    entries: list[Entry] = []
    entry, target = Entry(), None

    def finish():
        nonlocal entry
        if entry.msgid or entry.msgstr:
            entries.append(entry)
        entry = Entry()

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#,"):
            if entry.msgstr:
                finish()
            entry.flags |= {f.strip() for f in line[2:].split(",")}
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith('"'):
            value = ast.literal_eval(line)
        else:
            keyword, _, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            if keyword in ("msgctxt", "msgid") and entry.msgstr:
                finish()
            if keyword.startswith("msgstr["):
                target = ("msgstr", int(keyword[7:-1]))
            elif keyword == "msgstr":
                target = ("msgstr", 0)
            else:
                target = (keyword, None)
            if target[0] == "msgstr":
                entry.msgstr[target[1]] = ""
            elif target[0] == "msgid_plural":
                entry.plural = ""
            else:
                setattr(entry, target[0], "")
        kind, index = target
        if kind == "msgstr":
            entry.msgstr[index] += value
        elif kind == "msgid_plural":
            entry.plural += value
        else:
            setattr(entry, kind, getattr(entry, kind) + value)
    finish()
    return [e for e in entries if e.msgid]
