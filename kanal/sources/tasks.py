"""The periodic job: fetch every source whose turn it is."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from .models import Source, SourceStatus


def due_sources(now):
    for source in Source.objects.exclude(status=SourceStatus.PAUSED).order_by("pk"):
        every = timedelta(minutes=max(source.fetch_every_minutes, 5))
        if source.last_fetched_at is None or source.last_fetched_at + every <= now:
            yield source


def fetch_due_sources(now=None, dry_run: bool = False) -> int:
    """Fetch each due source; one that fails (in any way) is recorded on that
    source and the others go on. Returns how many were (or would be) fetched."""
    from kanal.publishing.periodic import each_guarded

    from .actions import record_crash, refresh_source

    now = now or timezone.now()
    due = list(due_sources(now))
    if dry_run:
        return len(due)
    # refresh_source records expected failures itself; the guard is the last
    # one, so one source's bug never stops the others and is said on it.
    each_guarded(
        "sources_fetch_due", due,
        lambda source: refresh_source(source, actor=None, now=now) and 1,
        record=lambda source, _error: record_crash(source, now=now),
    )
    return len(due)
