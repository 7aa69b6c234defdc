"""Reading published posts back from their networks, so that an edit or a
deletion made there (by someone in the network's own app) enters the record
as a new version, never overwriting what was recorded (issue 17).

A recorded publication gets a ``PostReadback`` row that says when it is read
next: often while the post is young, rarely once it is old, and not at all
after ``conf.READBACK_CADENCE``'s last age. A run reads at most
``READBACK_PER_RUN`` due posts, oldest due first, of channels that are
connected (a channel that needs reconnecting, or is switched off, waits). Each
post is claimed by one conditional update (so two workers never read the same
post), read from the network outside any transaction (a channel's due posts
in as few requests as its adapter's ``read_posts`` allows: X reads 100 a
request), and the result is recorded in a short one:

- the text differs from the last recorded text (compared the way networks
  rewrite text: links, entities, HTML; ``reconcile.same_text``): a version
  ``edited`` with the network's text, when it was edited (if the network
  says) and when Kanal saw it;
- the network says the post is gone: a version ``deleted``; the post is not
  read again;
- an error (auth, rate limit, 5xx, an unreadable answer): nothing is
  recorded; the post is read again after ``READBACK_RETRY_SECONDS`` (or when
  the rate limit resets), and the channel's other posts wait for the next run;
  a post a batch's answer left out (a partial error) is asked again the same
  way.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from kanal.channels.adapters import adapter_for
from kanal.channels.models import ChannelStatus
from kanal.channels.networks.base import PostState
from kanal.channels.networks.errors import (
    UNREADABLE_ANSWER,
    NetworkError,
    NotSupported,
    Rejected,
    TransientError,
)
from kanal.channels.networks.reconcile import same_text
from kanal.channels.vault import VaultError
from kanal.publishing.models import Publication, PublicationStatus

from . import actions, conf
from .capture import SOURCE
from .models import PostReadback, RecordChange, RecordEntry

logger = logging.getLogger("kanal.records.readback")

#: How far a network's clock may be off Kanal's (an edit time stamped before
#: the post's own publishing time by less is still believed).
CLOCK_SLACK = timedelta(minutes=5)

#: The longest a network's "wait" (Retry-After, a rate limit's reset) holds
#: a read back.
MAX_WAIT = timedelta(days=7)

#: Publications enrolled per run (the first run after an upgrade meets every
#: recorded post of the last year; later runs only the new ones).
ENROL_PER_RUN = 1000


def read_every(age: timedelta) -> timedelta | None:
    """How long to wait before the next read of a post ``age`` old; None
    when it is past the last age of the cadence (not read again)."""
    seconds = age.total_seconds()
    for below, every in conf.get("READBACK_CADENCE"):
        if seconds < below:
            return timedelta(seconds=every)
    return None


def next_read(published_at: datetime, now: datetime) -> datetime | None:
    every = read_every(now - published_at)
    return None if every is None else now + every


def enrol(now: datetime) -> int:
    """A ``PostReadback`` for each recorded publication of the cadence's
    span that has none yet (the first read one interval after publishing)."""
    longest = max(below for below, _ in conf.get("READBACK_CADENCE"))
    candidates = list(
        Publication.objects.filter(
            status=PublicationStatus.PUBLISHED,
            published_at__gte=now - timedelta(seconds=longest),
        )
        .exclude(remote_id="")
        .exclude(pk__in=PostReadback.objects.values("publication_id"))
        .order_by("published_at", "pk")
        .values("pk", "organisation_id", "remote_id", "published_at")[
            :ENROL_PER_RUN
        ]
    )
    keys = {f"publication:{c['pk']}": c for c in candidates}  # capture.publication_key
    recorded = set(
        RecordEntry.objects.filter(source=SOURCE, source_key__in=list(keys))
        .values_list("source_key", flat=True)
    )
    rows = []
    for key, c in keys.items():
        if key not in recorded:
            continue  # the capture sweep records it first
        first = c["published_at"] + read_every(timedelta(0))
        rows.append(PostReadback(
            organisation_id=c["organisation_id"], publication_id=c["pk"],
            source_key=key, remote_id=c["remote_id"],
            published_at=c["published_at"], next_read_at=max(first, now),
        ))
    PostReadback.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def due(now: datetime, limit: int) -> list[PostReadback]:
    """Due reads of connected channels, the longest waiting first."""
    return list(
        PostReadback.objects.filter(
            next_read_at__lte=now,
            publication__status=PublicationStatus.PUBLISHED,
            publication__channel__status=ChannelStatus.CONNECTED,
        )
        .select_related("publication__channel", "organisation")
        .order_by("next_read_at", "pk")[:limit]
    )


def claim(check: PostReadback, now: datetime) -> bool:
    """Take ``check`` for this run: one conditional update (autocommit, no
    lock held afterwards); False when another worker took it first."""
    until = now + timedelta(seconds=conf.get("READBACK_CLAIM_SECONDS"))
    taken = PostReadback.objects.filter(
        pk=check.pk, next_read_at=check.next_read_at
    ).update(next_read_at=until)
    return taken == 1


@dataclass
class RunResult:
    read: int = 0
    edited: int = 0
    deleted: int = 0
    failed: int = 0
    skipped_channels: set[int] = field(default_factory=set)

    @property
    def changed(self) -> int:
        return self.edited + self.deleted


def read_back_published(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Periodic: read due published posts back from their networks and record
    what changed there. Returns how many new versions it recorded (with
    ``dry_run``: how many posts are due, nothing read or written)."""
    now = now or timezone.now()
    limit = conf.get("READBACK_PER_RUN")
    if dry_run:
        return len(due(now, limit))
    enrol(now)
    return run(now=now, limit=limit).changed


def run(*, now: datetime, limit: int) -> RunResult:
    result = RunResult()
    adapters: dict[int, object] = {}
    # The periodic jobs share one thread (lease sweeps among them): a run
    # stops starting reads after its time budget; the rest stay due.
    stop_at = time.monotonic() + conf.get("READBACK_RUN_SECONDS")
    pending = due(now, limit)
    taken: set[int] = set()
    for check in pending:
        if check.pk in taken:
            continue  # read in an earlier request of its channel
        if (result.read or result.failed) and time.monotonic() >= stop_at:
            break
        channel = check.publication.channel
        taken.add(check.pk)
        if channel.pk in result.skipped_channels or not claim(check, now):
            continue
        batch = [check]
        try:
            adapter = adapters.get(channel.pk) or adapter_for(channel)
            adapters[channel.pk] = adapter
            batch += _same_request(adapter, check, pending, taken, now)
            states = _read(adapter, batch)
        except NotSupported:
            for one in batch:
                _finish(one, now, error="")
            continue
        except (NetworkError, VaultError) as e:
            result.failed += len(batch)
            for one in batch:
                _failed(one, now, e)
            if not isinstance(e, Rejected):
                # A token, a rate limit or a network that is down: the
                # channel's other posts would fail alike. Next run.
                result.skipped_channels.add(channel.pk)
            continue
        except Exception as e:  # an answer no adapter foresaw: these posts only
            logger.exception("records read-back of %s broke",
                             ", ".join(one.source_key for one in batch))
            result.failed += len(batch)
            for one in batch:
                _failed(one, now, Rejected(network_message=repr(e)[:200]))
            continue
        for one in batch:
            state = states.get(one.remote_id)
            if state is None:
                # Left out of a batch's answer with an error of its own (a
                # partial error): no proof of anything; asked again later.
                result.failed += 1
                _failed(one, now, TransientError(
                    UNREADABLE_ANSWER, network=channel.network,
                    network_message=f"{one.remote_id} left out of the answer"))
                continue
            result.read += 1
            change = _record(one, state, now)
            if change == RecordChange.DELETED:
                result.deleted += 1
            elif change == RecordChange.EDITED:
                result.edited += 1
    if result.read or result.failed:
        logger.info(
            "records read-back: %s read, %s edited, %s deleted, %s failed",
            result.read, result.edited, result.deleted, result.failed,
        )
    return result


def _same_request(adapter, check: PostReadback, pending: list[PostReadback],
                  taken: set[int], now: datetime) -> list[PostReadback]:
    """The channel's other due posts (claimed here) that ``adapter`` reads
    in the same request as ``check``: up to its ``read_batch`` in all (X
    reads 100 a request; a network that reads one a request gets none)."""
    room = max(1, int(getattr(adapter, "read_batch", 1) or 1)) - 1
    more: list[PostReadback] = []
    for other in pending:
        if len(more) >= room:
            break
        if other.pk in taken or (
            other.publication.channel_id != check.publication.channel_id
        ):
            continue
        taken.add(other.pk)
        if claim(other, now):
            more.append(other)
    return more


def _read(adapter, batch: list[PostReadback]) -> dict[str, PostState]:
    """The network's word on each post of ``batch``, by remote id: one
    ``read_post`` for one post, one ``read_posts`` for several (an id it left
    out is missing)."""
    if len(batch) == 1:
        return {batch[0].remote_id: adapter.read_post(batch[0].remote_id)}
    return adapter.read_posts(tuple(one.remote_id for one in batch))


def _record(check: PostReadback, state: PostState, now: datetime) -> str:
    """Record what the network showed (in one short transaction) and plan
    the next read; returns the change recorded, or ""."""
    organisation = check.organisation
    seen = {"seen_on_network_at": now.isoformat()}
    with transaction.atomic():
        latest = (
            RecordEntry.objects.filter(
                organisation=organisation, source_key=check.source_key
            ).order_by(*actions.NEWEST_FIRST).first()
        )
        change = ""
        if latest is None or latest.change == RecordChange.DELETED:
            pass  # retention removed it, or it is known deleted: nothing to add
        elif state.gone:
            actions.record_deleted(
                organisation=organisation, source_key=check.source_key,
                occurred_at=now, details=seen,
            )
            change = RecordChange.DELETED
        elif not same_text(state.text, latest.text):
            edited_at = _plausible(state.edited_at, check.published_at, now)
            details = {**seen, "edited_on_network_at":
                       edited_at.isoformat() if edited_at else None}
            if state.current_id and state.current_id != check.remote_id:
                details["remote_id_now"] = state.current_id[:200]
            actions.record_edited(
                organisation=organisation, source_key=check.source_key,
                text=state.text, occurred_at=edited_at or now,
                permalink=state.url, details=details,
            )
            change = RecordChange.EDITED
        gone = state.gone or (latest is not None
                              and latest.change == RecordChange.DELETED)
        PostReadback.objects.filter(pk=check.pk).update(
            last_read_at=now, reads=check.reads + 1, last_error="", failures=0,
            gone_at=now if gone else None,
            next_read_at=None if gone or latest is None
            else next_read(check.published_at, now),
        )
    return change


def _plausible(moment: datetime | None, published_at: datetime,
               now: datetime) -> datetime | None:
    """The network's edit time if it lies between publishing and now, give
    or take ``CLOCK_SLACK`` (it is the network's word, on its clock, often in
    whole seconds), kept within them so the versions stay in order."""
    if moment is None or not (
        published_at - CLOCK_SLACK <= moment <= now + CLOCK_SLACK
    ):
        return None
    return min(max(moment, published_at), now)


def _failed(check: PostReadback, now: datetime, error: Exception) -> None:
    """Nothing is recorded. A failure to ask (token, rate limit, the network
    down) is asked again after ``READBACK_RETRY_SECONDS`` (or when the rate
    limit resets); a refusal of this one post (``Rejected``, not "gone") at
    its next regular read, and never past the cadence's last age."""
    regular = next_read(check.published_at, now)
    if isinstance(error, Rejected):
        retry_at = regular
    else:
        retry_at = now + timedelta(seconds=conf.get("READBACK_RETRY_SECONDS"))
        reset_at = getattr(error, "reset_at", None)
        retry_after = getattr(error, "retry_after", None)
        if reset_at is not None and reset_at > now:
            retry_at = max(retry_at, reset_at)
        elif retry_after:
            # The network's word: a week at the most.
            wait = min(float(retry_after), MAX_WAIT.total_seconds())
            retry_at = max(retry_at, now + timedelta(seconds=wait))
        retry_at = min(retry_at, now + MAX_WAIT)
        if regular is None:
            retry_at = None
    message = getattr(error, "message", "") or str(error)
    logger.warning("records read-back of %s failed: %r", check.source_key, error)
    PostReadback.objects.filter(pk=check.pk).update(
        last_error=str(message)[:500], failures=check.failures + 1,
        next_read_at=retry_at,
    )


def _finish(check: PostReadback, now: datetime, *, error: str) -> None:
    """The network cannot be asked: stop reading this post."""
    PostReadback.objects.filter(pk=check.pk).update(
        last_read_at=now, next_read_at=None, last_error=error[:500],
    )
