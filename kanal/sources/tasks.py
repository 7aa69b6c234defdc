"""The periodic job: fetch every source whose turn it is."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from .models import Source, SourceStatus

#: One run starts no new fetch after this many seconds (the worker's network
#: lane is shared with inbox polling, read-back and insights); the sources
#: left waited longest and go first next run. Each fetch has its own deadline.
FETCH_RUN_SECONDS = 60.0


def due_sources(now):
    """The sources whose turn it is, the longest waiting first (never
    fetched, then the oldest fetch)."""
    sources = Source.objects.exclude(status=SourceStatus.PAUSED).order_by(
        F("last_fetched_at").asc(nulls_first=True), "pk")
    for source in sources:
        every = timedelta(minutes=max(source.fetch_every_minutes, 5))
        if source.last_fetched_at is None or source.last_fetched_at + every <= now:
            yield source


def fetch_due_sources(now=None, dry_run: bool = False) -> int:
    """Fetch each due source, the longest waiting first, until the run's time
    budget (``FETCH_RUN_SECONDS``) is used; one that fails (in any way) is
    recorded on that source and the others go on. Returns how many were (or
    would be) fetched."""
    from kanal.publishing.periodic import each_guarded

    from .actions import record_crash, refresh_source

    now = now or timezone.now()
    due = list(due_sources(now))
    if dry_run:
        return len(due)
    # refresh_source records expected failures itself; the guard is the last
    # one, so one source's bug never stops the others and is said on it.
    fetched = []

    def fetch(source) -> int:
        fetched.append(source)
        return refresh_source(source, actor=None, now=now) and 1

    each_guarded(
        "sources_fetch_due", due, fetch,
        record=lambda source, _error: record_crash(source, now=now),
        budget_seconds=FETCH_RUN_SECONDS,
    )
    return len(fetched)
