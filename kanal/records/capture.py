"""Publishing → the record: what went out, per network, as it went out.

Publishing tells the apps above it that a publication changed
(``signals.publication_changed``); after that transaction commits, a task
(``tasks.record_post``) is queued that records every published publication
of the post (a new version only if what is recorded changed, e.g. a
permalink added by hand). Recording copies media files, which may be large
or on a slow disk, so it runs in the task worker, never in the publishing
worker's post-commit: a slow or failing copy cannot delay or fail a
publication. A periodic sweep
records what the signal cannot name (crisis messages, which belong to no
post) and anything missed while the record was down.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from kanal.publishing import periodic
from kanal.publishing.models import Publication, PublicationStatus

from . import actions
from .models import RecordEntry, RecordKind

logger = logging.getLogger(__name__)

SOURCE = "publishing"
SWEEP_DAYS = 7


def publication_key(pub: Publication) -> str:
    return f"publication:{pub.pk}"


def first_comment_key(pub: Publication) -> str:
    return f"publication:{pub.pk}:first_comment"


def capture_publication(pub: Publication) -> RecordEntry | None:
    """Record exactly what ``pub`` sent to its network (and its first
    comment, once posted). Returns the post's entry."""
    if pub.status != PublicationStatus.PUBLISHED:
        return None
    channel = pub.channel
    when = pub.published_at or pub.updated_at or timezone.now()
    content = {
        "kind": RecordKind.POST,
        "network": channel.network,
        "channel": channel.display_name,
        "handle": channel.handle,
        "text": pub.text,
        "link": pub.link,
        "first_comment": pub.first_comment,
        "permalink": pub.url,
        "remote_id": pub.remote_id,
        "planned_at": pub.planned_at,
        "published_at": pub.published_at,
        "is_crisis": pub.is_crisis,
        "published_manually": pub.published_manually,
        "post_id": pub.post_id,
        "revision_id": pub.revision_id,
    }
    entry = actions.record(
        organisation=pub.organisation,
        kind=RecordKind.POST,
        source=SOURCE,
        source_key=publication_key(pub),
        content=content,
        occurred_at=when,
        channel=channel,
        text=pub.text,
        permalink=pub.url,
        media=[m for m in pub.media if isinstance(m, dict)],
        # Recorded again when a sibling publication changes: an edit seen on
        # the network since (``readback``) stays the newest version.
        same_as_before=True,
    )
    if pub.first_comment and pub.first_comment_remote_id:
        actions.record(
            organisation=pub.organisation,
            kind=RecordKind.FIRST_COMMENT,
            source=SOURCE,
            source_key=first_comment_key(pub),
            content={
                "kind": RecordKind.FIRST_COMMENT,
                "network": channel.network,
                "channel": channel.display_name,
                "text": pub.first_comment,
                "remote_id": pub.first_comment_remote_id,
                "on_post": pub.remote_id,
                "permalink": pub.url,
            },
            occurred_at=when,
            channel=channel,
            text=pub.first_comment,
            permalink=pub.url,
        )
    return entry


def capture_post(post_id: int) -> int:
    count = 0
    pubs = Publication.objects.select_related("channel", "organisation").filter(
        post_id=post_id, status=PublicationStatus.PUBLISHED
    )
    for pub in pubs:
        try:
            capture_publication(pub)
            count += 1
        except Exception:
            # Never in publishing's way: the sweep records it later.
            logger.exception("recording publication %s failed", pub.pk)
    return count


def on_publication_changed(sender, *, post_id: int, **kwargs) -> None:
    """``kanal.publishing.signals.publication_changed``: queue the recording
    after the commit, so nothing here can undo or hold up what publishing
    did."""
    transaction.on_commit(lambda: queue_capture(post_id))


def queue_capture(post_id: int) -> None:
    """Queue ``tasks.record_post``; a queue that cannot take it is logged,
    and the sweep (``capture_published``) records the post later."""
    from .tasks import record_post

    try:
        record_post.enqueue(post_id)
    except Exception:
        logger.exception("queueing the recording of post %s failed", post_id)


def capture_published(now=None, dry_run: bool = False) -> int:
    """Periodic: record every publication published in the last week that
    the record lacks; returns how many it recorded. One that fails is
    logged and tried again at the next run; the others are recorded."""
    now = now or timezone.now()
    since = now - timedelta(days=SWEEP_DAYS)
    pubs = (
        Publication.objects.select_related("channel", "organisation")
        .filter(status=PublicationStatus.PUBLISHED, updated_at__gte=since)
        .order_by("pk")
    )
    keys = {publication_key(p): p for p in pubs}
    recorded = set(
        RecordEntry.objects.filter(source=SOURCE, source_key__in=list(keys))
        .values_list("source_key", flat=True)
    )
    missing = [p for key, p in keys.items() if key not in recorded]
    if dry_run:
        return len(missing)

    def record(pub) -> int:
        capture_publication(pub)
        return 1

    # One publication that cannot be recorded (an unreadable image, say)
    # must not keep every later one out of the record on every run.
    return periodic.each_guarded("records_capture_published", missing, record)
