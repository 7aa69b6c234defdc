"""Query values an emulator reads as numbers. A value that is no whole number
is the caller's mistake, which every network answers with a 400 in its own
words (each network module's ``bad_param``), never with a crash (a 500)."""

from __future__ import annotations

from collections.abc import Mapping


class BadParam(ValueError):
    """``name`` was sent as ``value``, which is no whole number."""

    def __init__(self, name: str, value) -> None:
        super().__init__(f"{name} must be an integer")
        self.name, self.value = name, value


def whole_number(params: Mapping, name: str, default: int | None = None, *,
                 low: int | None = None, high: int | None = None) -> int | None:
    """``params[name]`` as an int (``default`` when absent or empty), brought
    within ``low``..``high`` as the networks do with a page size."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BadParam(name, raw) from None
    if low is not None:
        value = max(low, value)
    if high is not None:
        value = min(high, value)
    return value
