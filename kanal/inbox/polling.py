"""Polling channels' inboxes with a stored cursor per channel.

Networks without usable webhooks (X, Mastodon, Bluesky, LinkedIn) are polled
often; Meta channels get a rarer catch-up poll so a missed webhook never
loses a comment. The first poll of a channel has no cursor, so the adapter
returns its recent history (the backfill). A failed poll keeps the cursor,
so the next one reads the same span again; ``ingest`` makes that harmless.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from kanal.channels.adapters import adapter_for
from kanal.channels.models import Channel, ChannelStatus
from kanal.channels.networks.errors import NetworkError, NotSupported
from kanal.channels.vault import VaultError

from .intake import Outcome, ingest
from .models import PollCursor
from .moderation import guard_personal_data

logger = logging.getLogger("kanal.inbox.polling")

#: Seconds between polls of one channel.
POLL_EVERY = {
    "x": 60,
    "mastodon": 30,
    "bluesky": 30,
    "linkedin": 120,
    # Webhooks bring these at once; the poll only catches up.
    "facebook": 300,
    "instagram": 300,
    "threads": 300,
}


def due_channels(now: datetime):
    """Connected channels whose next poll is due."""
    channels = Channel.objects.filter(status=ChannelStatus.CONNECTED).select_related(
        "inbox_cursor"
    )
    due = []
    for channel in channels:
        cursor = getattr(channel, "inbox_cursor", None)
        every = timedelta(seconds=POLL_EVERY.get(channel.network, 300))
        if cursor is None or cursor.last_polled_at is None or (
            cursor.last_polled_at + every <= now
        ):
            due.append(channel)
    return due


def poll_due_channels(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Poll every channel that is due; returns how many were (or would be)."""
    now = now or timezone.now()
    channels = due_channels(now)
    if dry_run:
        return len(channels)
    for channel in channels:
        poll_channel(channel, now=now)
    return len(channels)


def poll_channel(channel: Channel, *, now: datetime | None = None) -> Outcome:
    """Read ``channel``'s inbox since its cursor and store what is new."""
    now = now or timezone.now()
    cursor, _ = PollCursor.objects.get_or_create(channel=channel)
    outcome = Outcome()
    try:
        adapter = adapter_for(channel)
        page = adapter.fetch_inbox(since=cursor.cursor or None)
    except NotSupported:
        _save(cursor, now, error="", new_cursor=cursor.cursor)
        return outcome
    except (NetworkError, VaultError) as e:
        message = getattr(e, "message", "") or str(e)
        logger.warning("inbox poll of channel %s failed: %s", channel.pk, message)
        _save(cursor, now, error=message, new_cursor=cursor.cursor)
        return outcome
    for item in page.items:
        ingest(channel, item, action="poll", outcome=outcome)
    guard_personal_data(outcome.created)
    _save(cursor, now, error="", new_cursor=page.cursor or cursor.cursor,
          seen=len(page.items))
    return outcome


def _save(cursor: PollCursor, now, *, error: str, new_cursor: str, seen=0) -> None:
    PollCursor.objects.filter(pk=cursor.pk).update(
        cursor=new_cursor, last_polled_at=now, last_error=error[:2000],
        items_seen=cursor.items_seen + seen,
    )
    cursor.cursor, cursor.last_polled_at, cursor.last_error = new_cursor, now, error



