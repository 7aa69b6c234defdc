"""Polling channels' inboxes with a stored cursor per channel.

A channel is polled often while its newest published post is young and
rarely once its posts are old (``conf.POLL_CADENCE``), never more often than
its network allows (``conf.POLL_NETWORK_FLOOR``): networks without usable
webhooks (X, Mastodon, Bluesky, LinkedIn) down to every 30-120 seconds, Meta
channels only as a catch-up so a missed webhook never loses a comment. The
adapters read a channel's recent posts in one call, so the cadence is the
channel's, set by its youngest post. A channel that has never been polled (just
connected) is due at once and, having no cursor, gets its recent history
from the adapter (the backfill). A failed poll keeps the cursor, so the next
one reads the same span again; ``ingest`` makes that harmless.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from kanal.channels.adapters import adapter_for
from kanal.channels.models import Channel, ChannelStatus
from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.channels.networks.errors import (
    AuthExpired,
    NetworkError,
    NotSupported,
    RateLimited,
)
from kanal.channels.vault import VaultError
from kanal.channels.wording import network_sentence
from kanal.core.safety import plain_text
from kanal.notifications.actions import notify, resolve
from kanal.notifications.audience import channel_desk
from kanal.publishing.models import PublicationStatus
from kanal.publishing.periodic import each_guarded

from . import conf
from .intake import Outcome, ingest
from .models import InboxItem, ItemKind, PollCursor
from .moderation import guard_personal_data

logger = logging.getLogger("kanal.inbox.polling")
#: The notification that a channel's direct messages cannot be read.
MESSAGES_DENIED = "inbox_messages_denied"

def poll_every(network: str, youngest_post_at: datetime | None,
               now: datetime) -> timedelta:
    """How long to wait between polls of a channel on ``network`` whose
    newest published post went out at ``youngest_post_at``."""
    every = conf.get("POLL_OLD_EVERY")
    if youngest_post_at is not None:
        age = (now - youngest_post_at).total_seconds()
        for below, seconds in conf.get("POLL_CADENCE"):
            if age < below:
                every = seconds
                break
    floor = conf.get("POLL_NETWORK_FLOOR").get(network, conf.get("POLL_OLD_EVERY"))
    return timedelta(seconds=max(every, floor))


def due_channels(now: datetime):
    """Connected channels whose next poll is due, the longest waiting first
    (never polled, then the oldest poll), so a run that stops at its time
    budget leaves those that waited least."""
    channels = Channel.objects.filter(
        status=ChannelStatus.CONNECTED
    ).select_related("inbox_cursor").annotate(
        youngest_post_at=Max("publications__published_at",
                             filter=Q(publications__status=PublicationStatus.PUBLISHED)),
    )
    due = []
    for channel in channels:
        cursor = getattr(channel, "inbox_cursor", None)
        if cursor is not None and cursor.poll_not_before is not None and (
            cursor.poll_not_before > now
        ):
            continue  # the network asked Kanal to wait (``held_until``)
        if cursor is None or cursor.last_polled_at is None:
            due.append(channel)  # never polled: the backfill, at once
            continue
        every = poll_every(channel.network, channel.youngest_post_at, now)
        if cursor.last_polled_at + every <= now:
            due.append(channel)
    return sorted(due, key=_waited_since)


def take_poll(channel: Channel, now: datetime) -> bool:
    """Take ``channel``'s poll for this run (``due_channels`` loaded it with
    its cursor): its last poll time is set to ``now`` only if it is still
    the one the due list was made from. Every worker runs the periodic poll;
    of two that took the same due list, one polls the channel and the other
    passes it (each poll reads the network: X bills the reads, LinkedIn
    counts a daily quota)."""
    seen = getattr(channel, "inbox_cursor", None)
    before = seen.last_polled_at if seen is not None else None
    cursor, _created = PollCursor.objects.get_or_create(channel=channel)
    rows = PollCursor.objects.filter(pk=cursor.pk)
    rows = (rows.filter(last_polled_at__isnull=True) if before is None
            else rows.filter(last_polled_at=before))
    return rows.update(last_polled_at=now) == 1


def _waited_since(channel: Channel):
    cursor = getattr(channel, "inbox_cursor", None)
    polled = cursor.last_polled_at if cursor is not None else None
    return (polled is not None, polled)


def poll_due_channels(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Poll the channels that are due, longest waiting first, until the run's
    time budget (``POLL_RUN_SECONDS``) is used; returns how many were polled
    (or, with ``dry_run``, how many are due)."""
    now = now or timezone.now()
    channels = due_channels(now)
    if dry_run:
        return len(channels)
    polled = []

    def poll(channel: Channel) -> int:
        if not take_poll(channel, now):
            return 0  # another worker took it since the list was made
        polled.append(channel)
        return len(poll_channel(channel, now=now).created)

    each_guarded(
        "inbox_poll", channels, poll,
        record=lambda channel, error: record_poll_failure(channel, error, now=now),
        budget_seconds=conf.get("POLL_RUN_SECONDS"),
    )
    return len(polled)


#: Kanal's own reason for a failed poll, stored untranslated with its values
#: and rendered for the reader (``poll_problem``).
UNREADABLE = gettext_noop(
    "Indbakken kunne ikke hentes: netværkets svar kunne ikke læses (%(error)s). "
    "Kanal prøver igen ved næste hentning."
)


def record_poll_failure(channel: Channel, error: Exception, *, now: datetime) -> None:
    """An unforeseen failure of ``channel``'s poll, on its cursor: the desk
    sees why its inbox went quiet, the cursor stays where it was (the next poll
    reads the same span), and the channel waits its turn like any other."""
    cursor, _created = PollCursor.objects.get_or_create(channel=channel)
    _save(cursor, now, new_cursor=cursor.cursor, error=UNREADABLE,
          error_params={"error": type(error).__name__})


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
        _save(cursor, now, error=message, new_cursor=cursor.cursor,
              not_before=held_until(e, now) if isinstance(e, RateLimited) else None)
        return outcome
    for _n in range(page.skipped):
        # Entries of the network's answer its adapter could not read: left
        # out and passed by the cursor, counted here and on the cursor.
        outcome.skip("unreadable")
    if page.skipped:
        logger.warning("inbox poll of channel %s: %d unreadable entries skipped",
                       channel.pk, page.skipped)
    for item in page.items:
        try:
            ingest(channel, item, action="poll", outcome=outcome)
        except Exception:
            # One item the network sent that Kanal cannot read: skipped and
            # logged; the rest of the page, and the cursor, go on.
            logger.exception("inbox poll of channel %s: an item was skipped",
                             channel.pk)
            outcome.skip("unreadable")
    note_messages_access(channel, cursor, page.messages_denied, now=now)
    recheck(channel, adapter, now=now, outcome=outcome)
    # New items and edits (a read-back's too) that brought personal data.
    guard_personal_data(outcome.to_guard())
    _save(cursor, now, error="", new_cursor=page.cursor or cursor.cursor,
          seen=len(page.items), skipped=outcome.skipped.get("unreadable", 0))
    return outcome


#: The longest a network's throttle holds a channel's polls (its reset time
#: is an untrusted answer: a year would silence the inbox).
MAX_HOLD = timedelta(days=1)


def held_until(error: RateLimited, now: datetime) -> datetime | None:
    """Until when the network's throttle ``error`` asks Kanal to wait (its
    reset time or ``Retry-After``, the later of them, at most ``MAX_HOLD``
    ahead), or None when it names no time."""
    times = []
    reset_at = getattr(error, "reset_at", None)
    if isinstance(reset_at, datetime) and reset_at.tzinfo is not None:
        times.append(reset_at)
    try:
        seconds = float(getattr(error, "retry_after", None) or 0)
    except (TypeError, ValueError):
        seconds = 0
    if 0 < seconds < MAX_HOLD.total_seconds():
        times.append(now + timedelta(seconds=seconds))
    elif seconds >= MAX_HOLD.total_seconds():
        times.append(now + MAX_HOLD)
    until = max(times, default=None)
    if until is None or until <= now:
        return None
    return min(until, now + MAX_HOLD)


def recheck(channel: Channel, adapter, *, now: datetime, outcome: Outcome) -> int:
    """Read back young items of ``channel`` by their ids, so a citizen's edit
    or deletion on a network without webhooks for them is recorded (as a
    version, like Meta's ``edited``/``remove``); returns how many were read.

    The rule: only the network's own word on the item itself counts. An
    item is deleted when reading it by its id answers "not found" (``gone``:
    404/410 or the network's "not found"); an item missing from a listing
    (a post's replies, the notifications) is no proof, nor is an error (auth,
    rate limit, 5xx), which ends the rechecks of this poll and changes
    nothing. An answer without text is not taken for an edit to nothing.
    Items younger than ``RECHECK_DAYS`` are read on the poll after they
    arrive, then again once ``RECHECK_FRACTION`` of their age has passed (at
    least ``RECHECK_FLOOR`` seconds), at most ``RECHECK_PER_POLL`` a poll,
    never-read items first, then the longest overdue. Private messages are
    not read back.

    With the defaults an item is read about 13 times in its week (ages of
    about 1, 3, 6 and 12 minutes, then doubling to about 3.5 days), on 4 or
    5 UTC days. X bills each post a read returns ($0.005, "Posts: Read")
    once per UTC day however often it is read that day, so an X item costs
    about 4.5 billed reads, $0.02, over its week. Measured by driving this
    function over ten simulated days (60-120 s polls, items from 07 to 22):
    5 new replies and mentions a day read 70 times a day, 22 billed, $0.11;
    10 a day (Copenhagen's 1-2 tweets a day with about 5 answers each) 134
    reads, 45 billed, $0.23 a day; the demo's simulated citizens (about 160
    X items a day) 2,191 reads, 720 billed, $3.60 a day on the real API.
    X's reads go in batches (``read_batch``: up to 100 ids a request,
    ``GET /2/tweets?ids=``): 126 requests a day instead of 134 at 10 items,
    849 instead of 2,191 at 160; batching spares requests and rate limit,
    not money, since the bill counts posts, not requests.
    """
    if channel.network not in conf.get("RECHECK_NETWORKS"):
        return 0
    new = {row.pk for row in outcome.created}
    floor, fraction = conf.get("RECHECK_FLOOR"), conf.get("RECHECK_FRACTION")
    # Every item of the window that may be due (none is due within the floor
    # of its last read), with what decides whether it is: an item's wait
    # grows with its age, so the order of the last reads is not the order
    # of the next ones, and a young item read a minute ago may be due before
    # a hundred old ones read an hour ago.
    candidates = (
        InboxItem.objects.filter(
            channel=channel, deleted_on_network_at__isnull=True,
            redacted_at__isnull=True,
            created_at__gte=now - timedelta(days=conf.get("RECHECK_DAYS")),
        ).filter(Q(network_checked_at__isnull=True)
                 | Q(network_checked_at__lte=now - timedelta(seconds=floor)))
        .exclude(kind=ItemKind.MESSAGE).exclude(pk__in=new)
        .values_list("pk", "created_at", "network_checked_at")
    )
    order = {}  # never read first (youngest first), then the longest overdue
    for pk, created_at, checked in candidates:
        if checked is None:
            order[pk] = (0, -created_at.timestamp())
            continue
        due_at = checked + timedelta(seconds=max(
            floor, (now - created_at).total_seconds() * fraction))
        if due_at <= now:
            order[pk] = (1, due_at.timestamp())
    chosen = sorted(order, key=order.get)[: conf.get("RECHECK_PER_POLL")]
    rows = InboxItem.objects.in_bulk(chosen)
    due = [rows[pk] for pk in chosen if pk in rows]
    read = 0
    # A network that reads many posts a request (X: 100) gets the due items
    # in as few requests as it allows; the others one request an item.
    size = max(1, int(getattr(adapter, "read_batch", 1) or 1))
    for start in range(0, len(due), size):
        batch = due[start:start + size]
        pks = [row.pk for row in batch]
        try:
            if size == 1:
                states = {batch[0].remote_id: adapter.read_post(batch[0].remote_id)}
            else:
                states = adapter.read_posts(tuple(row.remote_id for row in batch))
        except NotSupported:
            return read
        except (RateLimited, AuthExpired, VaultError) as e:
            # The account cannot read now: the rest waits for the next poll.
            logger.info("inbox recheck of channel %s stopped: %s", channel.pk,
                        getattr(e, "message", "") or e)
            break
        except NetworkError as e:
            # These items could not be read (no access, an odd answer, a 5xx):
            # nothing is recorded, and they go to the back of the queue so
            # they never block the others.
            logger.info("inbox recheck of item(s) %s failed: %s", pks,
                        getattr(e, "message", "") or e)
            InboxItem.objects.filter(pk__in=pks).update(network_checked_at=now)
            continue
        InboxItem.objects.filter(pk__in=pks).update(network_checked_at=now)
        for row in batch:
            state = states.get(row.remote_id)
            if state is None:
                # Left out of a batch's answer with an error of its own (a
                # partial error): no proof of anything; asked again later.
                continue
            read += 1
            if state.gone:
                ingest(channel, as_network_item(row), action="remove", at=now,
                       outcome=outcome)
            elif state.text.strip():
                ingest(channel, as_network_item(row, text=state.text),
                       action="poll", at=now, outcome=outcome)
    return read


def as_network_item(row: InboxItem, *, text: str | None = None) -> NetworkItem:
    """A stored item as the network would give it, with ``text`` as it reads
    now (and its hidden flag as Kanal knows it: a read by id does not say)."""
    return NetworkItem(
        remote_id=row.remote_id, kind=row.kind, author_id=row.author_id,
        author_name=row.author_name, author_handle=row.author_handle,
        text=row.text if text is None else text,
        created_at=row.created_at, post_remote_id=row.post_remote_id,
        parent_remote_id=row.parent_remote_id, url=row.url,
        is_hidden=row.hidden_on_network,
    )


def note_messages_access(channel: Channel, cursor: PollCursor, denied: str, *,
                         now: datetime) -> None:
    """Record whether the network lets Kanal read ``channel``'s direct
    messages (``denied``: the permission it lacks, "" when it has it).

    Losing it tells the channel's desk once (a notification, and the
    channel's pages say so until it is back); getting it back clears both.
    Decided under the cursor's lock, so two polls never notify twice."""
    denied = plain_text(denied, max_length=100)
    if denied == cursor.messages_denied:
        return
    with transaction.atomic():
        row = PollCursor.objects.select_for_update().get(pk=cursor.pk)
        was = row.messages_denied
        if was == denied:
            return
        row.messages_denied = denied
        row.messages_denied_since = (row.messages_denied_since or now) if denied \
            else None
        row.save(update_fields=["messages_denied", "messages_denied_since"])
        if denied and not was:
            logger.warning("channel %s: no permission to read direct messages "
                           "(%s); its desk is told", channel.pk, denied)
            notify(
                channel_desk(channel.organisation_id,
                             channel.owner_administration_id),
                kind=MESSAGES_DENIED, about=channel,
                params={"channel": str(channel), "permission": denied},
                url=reverse("channel_detail", args=[channel.pk]),
            )
        elif not denied:
            logger.info("channel %s: direct messages readable again", channel.pk)
            resolve(kind=MESSAGES_DENIED, about=channel)
    cursor.messages_denied = row.messages_denied
    cursor.messages_denied_since = row.messages_denied_since


def messages_problem(channel: Channel):
    """That ``channel``'s direct messages cannot be read, for its pages."""
    cursor = PollCursor.objects.filter(channel=channel).first()
    return _messages_problem(cursor)


def messages_problems(channels) -> dict:
    """``messages_problem`` of many channels, in one query (the list)."""
    cursors = PollCursor.objects.filter(
        channel__in=[c.pk for c in channels]).exclude(messages_denied="")
    return {cursor.channel_id: _messages_problem(cursor) for cursor in cursors}


def _messages_problem(cursor):
    from kanal.channels.problems import Problem

    if cursor is None or not cursor.messages_denied:
        return None
    return Problem(gettext_lazy("Private beskeder"), _(
        "Netværket giver ikke Kanal lov til at læse private beskeder "
        "(tilladelsen %(permission)s mangler). Forbind kanalen igen, og giv "
        "tilladelsen."
    ) % {"permission": cursor.messages_denied}, cursor.messages_denied_since)


def poll_problem(channel: Channel):
    """The latest failure of ``channel``'s poll, for its page (or None)."""
    from kanal.channels.problems import Problem

    cursor = PollCursor.objects.filter(channel=channel).first()
    if cursor is None or not cursor.last_error:
        return None
    return Problem(gettext_lazy("Indbakken"), poll_error(cursor),
                   cursor.last_polled_at)


def poll_error(cursor: PollCursor) -> str:
    """Why ``cursor``'s last poll failed, in the active language."""
    if cursor.last_error_params:
        try:
            return _(cursor.last_error) % cursor.last_error_params
        except (KeyError, TypeError, ValueError):
            return cursor.last_error
    return network_sentence(cursor.last_error)


def _save(cursor: PollCursor, now, *, error: str, new_cursor: str, seen=0,
          skipped=0, error_params: dict | None = None,
          not_before: datetime | None = None) -> None:
    PollCursor.objects.filter(pk=cursor.pk).update(
        cursor=new_cursor, last_polled_at=now, last_error=error[:2000],
        poll_not_before=not_before,
        last_error_params=error_params or {},
        items_seen=cursor.items_seen + seen,
        items_skipped=cursor.items_skipped + skipped,
    )
    cursor.cursor, cursor.last_polled_at, cursor.last_error = new_cursor, now, error
    cursor.poll_not_before = not_before
    cursor.last_error_params = error_params or {}



