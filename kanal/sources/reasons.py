"""A reason a source failed, kept as its Danish message id and values and
translated when someone reads it (the worker writes it; an English reader
reads it in English)."""

from __future__ import annotations

from django.utils.translation import gettext


class Reason:
    def __init__(self, msgid: str, params: dict | None = None) -> None:
        self.msgid = msgid
        self.params = params or {}

    def __mod__(self, params: dict) -> Reason:
        return Reason(self.msgid, params)

    def __str__(self) -> str:
        text = gettext(self.msgid)
        return text % self.params if self.params else text

    def __repr__(self) -> str:
        return f"Reason({self.msgid!r}, {self.params!r})"


def _(msgid: str) -> Reason:
    """Mark ``msgid`` for translation; it is translated when read."""
    return Reason(msgid)


def read(msgid: str, params: dict | None) -> str:
    """The stored reason in the reader's language ("" for none)."""
    return str(Reason(msgid, params)) if msgid else ""
