"""What other apps show on the planning calendar beside the posts.

Planning knows none of the apps above it. An app that has something to place
on the calendar (the sources app's suggestions) registers a provider in its
``AppConfig.ready()``; the calendar asks every provider for the days it
shows, and a provider returns only what the member may see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone


@dataclass(frozen=True)
class OverlayEntry:
    """One thing on a calendar day that is not (yet) a post."""

    at: datetime
    title: str
    url: str
    kind: str  # CSS class and the reader's label (e.g. "suggestion")
    label: str  # shown before the title ("Forslag")
    networks: tuple[str, ...] = field(default_factory=tuple)

    @property
    def day(self) -> date:
        return timezone.localtime(self.at).date()

    @property
    def clock(self) -> str:
        return timezone.localtime(self.at).strftime("%H.%M")


Provider = Callable[[object, datetime, datetime], Iterable[OverlayEntry]]
_PROVIDERS: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """``provider(actor, start, end)`` → the entries from ``start`` up to
    ``end`` that ``actor`` may see. Registering a name again replaces it."""
    _PROVIDERS[name] = provider


def by_day(actor, start: datetime, end: datetime) -> dict[date, list[OverlayEntry]]:
    days: dict[date, list[OverlayEntry]] = defaultdict(list)
    for provider in _PROVIDERS.values():
        for entry in provider(actor, start, end):
            days[entry.day].append(entry)
    for entries in days.values():
        entries.sort(key=lambda e: e.at)
    return dict(days)
