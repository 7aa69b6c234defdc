"""Insights' periodic work: collection, rollups, pruning (see apps.py)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from kanal.channels.adapters import adapter_for
from kanal.channels.models import Channel, ChannelStatus
from kanal.channels.networks.errors import NetworkError, NotSupported, RateLimited
from kanal.publishing.models import Publication, PublicationStatus
from kanal.publishing.periodic import each_guarded

from . import actions, conf, rollups
from .models import ChannelCollection, PostTracking

logger = logging.getLogger(__name__)


def published(channel):
    return Publication.objects.filter(
        channel=channel, status=PublicationStatus.PUBLISHED,
        published_at__isnull=False,
    ).exclude(remote_id="")


def collect_metrics(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Collect every connected channel that is due, the one collected longest
    ago first, until the run's time budget (``COLLECT_RUN_SECONDS``) is used;
    the number of channels collected."""
    now = now or timezone.now()
    last = ChannelCollection.objects.filter(channel=OuterRef("pk")).values(
        "last_collected_at")[:1]
    channels = Channel.objects.filter(status=ChannelStatus.CONNECTED).annotate(
        last_collected_at=Subquery(last),
    ).order_by(F("last_collected_at").asc(nulls_first=True), "pk")
    return each_guarded(
        "insights_collect",
        channels.values_list("pk", flat=True),
        lambda channel_id: collect_channel(channel_id, now=now, dry_run=dry_run),
        record=lambda channel_id, error: record_unforeseen_failure(
            channel_id, error, now=now),
        budget_seconds=None if dry_run else conf.get("COLLECT_RUN_SECONDS"),
    )


def record_unforeseen_failure(channel_id: int, error: Exception, *,
                              now: datetime) -> None:
    """A failure nobody foresaw (an answer no adapter could read, a number no
    database keeps), on the channel's collection state: the channel waits its
    turn and is tried again, and the others are collected meanwhile."""
    actions.record_collection_failure(
        Channel.objects.get(pk=channel_id),
        message=_("Tallene kunne ikke hentes: netværkets svar kunne ikke læses "
                  "(%(error)s). Kanal prøver igen ved næste indsamling.")
        % {"error": type(error).__name__},
        wait_until=now + timedelta(seconds=conf.get("COLLECT_EVERY_SECONDS")),
    )


def collect_channel(channel_id: int, *, now: datetime, dry_run: bool = False) -> int:
    """One call of ``fetch_metrics`` for a channel that is due: its account
    once a day (and whenever posts are read), its posts by their age."""
    channel = Channel.objects.get(pk=channel_id)
    state = ChannelCollection.objects.filter(channel=channel).first()
    if state and state.wait_until and state.wait_until > now:
        return 0
    if not dry_run:
        tracked = PostTracking.objects.filter(channel=channel).values(
            "publication_id"
        )
        actions.track_publications(
            channel, published(channel).exclude(pk__in=tracked), now=now
        )
    due = list(
        PostTracking.objects.filter(
            channel=channel, finished=False, next_due_at__lte=now
        )
        .select_related("publication")
        .order_by("next_due_at")[: conf.get("POSTS_PER_CALL")]
    )
    today = timezone.localdate(now)
    if not due and state is not None and state.last_day == today:
        return 0
    if dry_run:
        return 1
    remote_ids = tuple(t.publication.remote_id for t in due)
    try:
        snapshot = adapter_for(channel).fetch_metrics(remote_ids)
    except RateLimited as error:
        wait = error.retry_after or conf.get("RATE_LIMIT_FALLBACK_SECONDS")
        until = error.reset_at or now + timedelta(seconds=wait)
        logger.info("insights: channel %s rate limited until %s", channel.pk, until)
        actions.record_collection_failure(
            channel, message=str(error), wait_until=until
        )
        return 0
    except NotSupported as error:
        actions.record_collection_failure(
            channel, message=str(error), wait_until=now + timedelta(days=1)
        )
        return 0
    except NetworkError as error:
        logger.warning("insights: channel %s metrics failed: %s", channel.pk, error)
        actions.record_collection_failure(
            channel, message=str(error),
            wait_until=now + timedelta(seconds=conf.get("COLLECT_EVERY_SECONDS")),
        )
        return 0
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        # An answer the adapter could not read (a text where a number
        # belongs): skipped and logged, tried again next time.
        logger.warning(
            "insights: channel %s metrics answer unreadable, skipped: %r",
            channel.pk, error,
        )
        actions.record_collection_failure(channel, message=repr(error))
        return 0
    actions.record_metrics(channel, snapshot, trackings=due, now=now)
    return 1


def collection_problem(channel):
    """The latest failure of ``channel``'s collection, for its page (or None)."""
    from kanal.channels.problems import Problem

    state = ChannelCollection.objects.filter(channel=channel).first()
    if state is None or not state.last_error:
        return None
    return Problem(gettext_lazy("Tal fra netværket"), state.last_error)


def update_rollups(*, now: datetime | None = None, dry_run: bool = False) -> int:
    return rollups.update_dirty_days(now=now, dry_run=dry_run)


def prune_raw_responses(*, now: datetime | None = None, dry_run: bool = False) -> int:
    return actions.prune_raw_responses(now=now, dry_run=dry_run)


def prune_exports(*, now: datetime | None = None, dry_run: bool = False) -> int:
    return actions.prune_exports(now=now, dry_run=dry_run)


@task()
def run_export(job_id: int) -> None:
    actions.make_export(job_id)


def collect_hashtags(*, now: datetime | None = None, dry_run: bool = False) -> int:
    from . import hashtags

    return hashtags.collect_hashtags(now=now, dry_run=dry_run)


def send_report_emails(*, now: datetime | None = None, dry_run: bool = False) -> int:
    return actions.send_due_reports(now=now, dry_run=dry_run)
