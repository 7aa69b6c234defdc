"""What a channel's background work could not do, shown on its page.

The periodic jobs that work channel by channel (inbox polling, insights
collection, token refresh) live in apps above this one; each records its
failures in its own per-channel row and registers a reader here when it
starts (``register``), so the channel page can say why a channel's inbox went
quiet or its numbers stopped, without this app importing theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils.functional import Promise


@dataclass(frozen=True)
class Problem:
    #: What the work is ("Indbakken", "Tal fra netværket"), translated.
    work: Promise | str
    #: The recorded sentence (a network's or Kanal's).
    text: str
    when: datetime | None = None


Reader = Callable[[object], "Problem | None"]

_READERS: dict[str, Reader] = {}


def register(name: str, reader: Reader) -> None:
    """Add ``reader(channel) -> Problem | None`` (once per ``name``)."""
    _READERS[name] = reader


def for_channel(channel) -> list[Problem]:
    """Every registered work's latest problem with ``channel``."""
    found = []
    for reader in _READERS.values():
        problem = reader(channel)
        if problem is not None and problem.text:
            found.append(problem)
    return found
