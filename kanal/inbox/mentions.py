"""Instagram mentions: kept from the webhook, read back, stored as items.

Instagram's ``mentions`` webhook names only ids: a comment of someone
else's that names the account (``comment_id`` and ``media_id``) or a
caption (``media_id``). ``remember`` keeps them (``MentionReadBack``, one
row per channel and ids: a replayed webhook adds nothing) when the webhook
is processed; ``read_due_mentions`` (a periodic job) reads each pending one
back through the channel's adapter (``read_mention``) and ``ingest``\\ s it
as an item of kind mention: a comment's mention joins the conversation of
the media it is under when Kanal holds that media (its caption named the
account too), otherwise it starts its own. A read that fails waits longer
each time (``backoff``) and is tried again, never dropped; one the network
answers with "does not exist, or no permission" (``mention_gone``) is
recorded gone and not asked for again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from kanal.channels.adapters import adapter_for
from kanal.channels.models import Channel, ChannelStatus
from kanal.channels.networks.errors import NetworkError, RateLimited
from kanal.channels.networks.instagram import mention_gone
from kanal.channels.vault import VaultError
from kanal.publishing.periodic import each_guarded

from .intake import Outcome, ingest
from .models import InboxItem, MentionReadBack, MentionStatus
from .moderation import guard_personal_data

logger = logging.getLogger("kanal.inbox.mentions")

#: Read-backs taken per run, and the run's time budget.
BATCH = 100
RUN_SECONDS = 30.0
#: A taken read-back is another worker's again after this (one that died
#: while reading leaves it pending, not lost).
LEASE = timedelta(minutes=5)
#: The first wait after a failed read, doubled each time, at most ``LONGEST``.
FIRST_WAIT = timedelta(minutes=1)
LONGEST = timedelta(hours=6)
ERROR_LIMIT = 300


def remember(channel: Channel, comment_id: str, media_id: str, *,
             now: datetime, outcome: Outcome) -> None:
    """Keep a mention's ids for the read-back, once: a replay finds the row
    (skipped as ``mention_known``). A mention Kanal already holds as an item
    (the ``/tags`` poll read the caption first) is kept as read."""
    held = InboxItem.objects.filter(channel=channel,
                                    remote_id=comment_id or media_id).exists()
    _row, created = MentionReadBack.objects.get_or_create(
        channel=channel, comment_id=comment_id, media_id=media_id,
        defaults={"next_attempt_at": now,
                  "status": MentionStatus.READ if held else MentionStatus.PENDING,
                  "finished_at": now if held else None},
    )
    if created and not held:
        outcome.queued += 1
    else:
        outcome.skip("mention_known")


def due(now: datetime):
    """Pending read-backs whose time has come, of connected channels (one
    whose connection is broken keeps its mentions until it is mended)."""
    return MentionReadBack.objects.filter(
        status=MentionStatus.PENDING, next_attempt_at__lte=now,
        channel__status=ChannelStatus.CONNECTED,
    ).select_related("channel", "channel__organisation").order_by(
        "next_attempt_at", "pk")


def read_due_mentions(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Read back the mentions that are due; returns how many items it stored
    (with ``dry_run``, how many read-backs are due)."""
    now = now or timezone.now()
    rows = due(now)
    if dry_run:
        return rows.count()
    return each_guarded(
        "inbox_read_mentions", list(rows[:BATCH]),
        lambda row: read_back(row, now=now),
        record=lambda row, error: _wait(row, now, type(error).__name__),
        budget_seconds=RUN_SECONDS,
    )


def read_back(row: MentionReadBack, *, now: datetime) -> int:
    """Read one mention and store it; how many items that made (0 or 1)."""
    if not _take(row, now):
        return 0  # another worker has it
    try:
        item = adapter_for(row.channel).read_mention(
            comment_id=row.comment_id, media_id=row.media_id)
    except (NetworkError, VaultError) as e:
        detail = getattr(e, "support_detail", "") or type(e).__name__
        if isinstance(e, NetworkError) and mention_gone(e):
            logger.info("mention %s of channel %s is gone: %s", row.pk,
                        row.channel_id, detail)
            _finish(row, MentionStatus.GONE, now, error=detail)
        else:
            logger.warning("mention %s of channel %s not read: %s", row.pk,
                           row.channel_id, detail)
            retry_after = e.retry_after if isinstance(e, RateLimited) else None
            _wait(row, now, detail, retry_after=retry_after)
        return 0
    outcome = ingest(row.channel, item, action="add")
    _finish(row, MentionStatus.READ, now,
            error=", ".join(sorted(outcome.skipped)))
    # A mention holding a CPR number is hidden like any new item.
    guard_personal_data(outcome.to_guard())
    return len(outcome.created)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed read."""
    return min(FIRST_WAIT * 2 ** min(max(attempts - 1, 0), 20), LONGEST)


def _take(row: MentionReadBack, now: datetime) -> bool:
    """Take ``row`` for this worker: its next attempt moves a lease ahead,
    only if it is still the one this run saw."""
    return MentionReadBack.objects.filter(
        pk=row.pk, status=MentionStatus.PENDING,
        next_attempt_at=row.next_attempt_at,
    ).update(next_attempt_at=now + LEASE) == 1


def _wait(row: MentionReadBack, now: datetime, error: str, *,
          retry_after: float | None = None) -> None:
    attempts = row.attempts + 1
    wait = backoff(attempts)
    if retry_after:
        # The network's own word, bounded: it is untrusted.
        wait = max(wait, min(timedelta(seconds=retry_after), LONGEST))
    MentionReadBack.objects.filter(pk=row.pk, status=MentionStatus.PENDING).update(
        attempts=F("attempts") + 1, next_attempt_at=now + wait,
        last_error=error[:ERROR_LIMIT])
    row.attempts = attempts


def _finish(row: MentionReadBack, status: str, now: datetime, *,
            error: str = "") -> None:
    MentionReadBack.objects.filter(pk=row.pk).update(
        status=status, finished_at=now, last_error=error[:ERROR_LIMIT])
