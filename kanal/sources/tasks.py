"""The periodic job: fetch every source whose turn it is."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from .models import Source, SourceStatus

logger = logging.getLogger("kanal.sources")


def due_sources(now):
    for source in Source.objects.exclude(status=SourceStatus.PAUSED).order_by("pk"):
        every = timedelta(minutes=max(source.fetch_every_minutes, 5))
        if source.last_fetched_at is None or source.last_fetched_at + every <= now:
            yield source


def fetch_due_sources(now=None, dry_run: bool = False) -> int:
    """Fetch each due source; one that fails (in any way) is recorded on that
    source and the others go on. Returns how many were (or would be) fetched."""
    from .actions import refresh_source

    now = now or timezone.now()
    count = 0
    for source in due_sources(now):
        count += 1
        if dry_run:
            continue
        try:
            refresh_source(source, actor=None, now=now)
        except Exception:
            # refresh_source records expected failures itself; this is the
            # last guard so one source's bug never stops the others.
            logger.exception("source refresh crashed source=%s", source.pk)
    return count
