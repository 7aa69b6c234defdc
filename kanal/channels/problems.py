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
ManyReader = Callable[[list], "dict[int, Problem]"]

_READERS: dict[str, Reader] = {}
_MANY_READERS: dict[str, ManyReader] = {}


def register(name: str, reader: Reader, *, many: ManyReader | None = None) -> None:
    """Add ``reader(channel) -> Problem | None`` (once per ``name``). With
    ``many(channels) -> {channel id: Problem}`` (one query for them all) the
    problem is also shown on the channel list (``for_channels``)."""
    _READERS[name] = reader
    if many is not None:
        _MANY_READERS[name] = many


def for_channels(channels) -> dict[int, list[Problem]]:
    """The problems the channel list shows, per channel id: those of the
    works registered with a ``many`` reader."""
    channels = list(channels)
    found: dict[int, list[Problem]] = {}
    for many in _MANY_READERS.values():
        for channel_id, problem in many(channels).items():
            if problem is not None and problem.text:
                found.setdefault(channel_id, []).append(problem)
    return found


def for_channel(channel) -> list[Problem]:
    """Every registered work's latest problem with ``channel``."""
    found = []
    for reader in _READERS.values():
        problem = reader(channel)
        if problem is not None and problem.text:
            found.append(problem)
    return found
