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
answers with "does not exist" (``mention_gone``: Graph's 100/33, a 404)
is recorded gone and not asked for again; any other refusal, a permission
error included, deletes nothing. A permission error tells the channel's
desk at once (``MENTION_DENIED``, once while unread); a mention still
unread ``GIVE_UP_AFTER`` after its webhook (and ``GIVE_UP_ATTEMPTS``
failed reads) is given up (``GAVE_UP``) and
the desk is told (``MENTION_GAVE_UP``): it is never retried for ever in
silence.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from kanal.channels.adapters import adapter_for
from kanal.channels.models import Channel, ChannelStatus
from kanal.channels.networks.errors import AuthExpired, NetworkError, RateLimited
from kanal.channels.networks.instagram import mention_gone
from kanal.channels.vault import VaultError
from kanal.notifications.actions import notify, resolve
from kanal.notifications.audience import channel_desk
from kanal.notifications.models import Notification, subject_of
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
#: A mention not read this long after its webhook is given up: Instagram's
#: own app shows it, and a read that failed for days (at most 6 hours
#: apart, a dozen tries) will not come right by itself.
GIVE_UP_AFTER = timedelta(days=3)
#: ...and not before this many reads failed (a mention that waited for its
#: broken connection to be mended gets its tries once it is).
GIVE_UP_ATTEMPTS = 8
#: The notifications: the account may not read mentions (a permission),
#: and a mention could not be read in time.
MENTION_DENIED = "inbox_mention_denied"
MENTION_GAVE_UP = "inbox_mention_gave_up"


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
            if isinstance(e, AuthExpired):
                # No permission (or no working token): the mention is there
                # and kept; the people who can mend the channel are told.
                _tell_once(row.channel, MENTION_DENIED, detail)
            retry_after = e.retry_after if isinstance(e, RateLimited) else None
            _wait(row, now, detail, retry_after=retry_after)
        return 0
    outcome = ingest(row.channel, item, action="add")
    _finish(row, MentionStatus.READ, now,
            error=", ".join(sorted(outcome.skipped)))
    resolve(kind=MENTION_DENIED, about=row.channel)
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
    """Try ``row`` again later, or give it up when it has waited
    ``GIVE_UP_AFTER`` since its webhook and failed ``GIVE_UP_ATTEMPTS``
    times (``GAVE_UP``, the desk told)."""
    if (now - row.received_at >= GIVE_UP_AFTER
            and row.attempts + 1 >= GIVE_UP_ATTEMPTS):
        given_up = MentionReadBack.objects.filter(
            pk=row.pk, status=MentionStatus.PENDING).update(
            status=MentionStatus.GAVE_UP, finished_at=now,
            attempts=F("attempts") + 1, last_error=error[:ERROR_LIMIT])
        if given_up:
            logger.warning("mention %s of channel %s given up after %s: %s",
                           row.pk, row.channel_id, now - row.received_at, error)
            _tell_once(row.channel, MENTION_GAVE_UP, error,
                       days=GIVE_UP_AFTER.days)
        return
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


def _tell_once(channel: Channel, kind: str, why: str, **params) -> None:
    """Tell ``channel``'s desk ``kind`` unless an unread notification of it
    about the channel is still there (many mentions failing at once are
    one notification, not a storm)."""
    if Notification.objects.filter(kind=kind, subject=subject_of(channel),
                                   read_at__isnull=True).exists():
        return
    notify(channel_desk(channel.organisation_id, channel.owner_administration_id),
           kind=kind, about=channel,
           params={"channel": str(channel), "why": why[:ERROR_LIMIT], **params},
           url=reverse("channel_detail", args=[channel.pk]))
