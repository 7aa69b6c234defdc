"""Day rollups per channel, category, purpose, administration and campaign.

Incremental: collection marks the days whose numbers changed (``DirtyDay``)
in the same transaction as the numbers; each day is recomputed whole in one
transaction that also clears its mark. A crash leaves the mark, so the next
run does that day again: resumable, and never half a day.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.channels.models import Channel, Purpose
from kanal.organisations.models import Administration
from kanal.planning.models import Campaign, Post
from kanal.publishing.models import Publication, PublicationStatus

from . import conf
from .models import (
    INTERACTION_KINDS,
    AccountSample,
    DailyRollup,
    Dimension,
    DirtyDay,
    PostTracking,
)

logger = logging.getLogger(__name__)

POST_FIELDS = ("views", "reach", "engagement", "clicks")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def post_numbers(latest: dict) -> dict:
    """A post's numbers for the rollups from its latest reading."""
    interactions = [latest[k] for k in INTERACTION_KINDS if k in latest]
    engagement = sum(interactions) if interactions else latest.get("engagement")
    return {
        "views": latest.get("views"),
        "reach": latest.get("reach"),
        "engagement": engagement,
        "clicks": latest.get("clicks"),
    }


class Bucket:
    def __init__(self, label: str, network: str = "") -> None:
        self.label = label
        self.network = network
        self.posts = 0
        self.numbers: dict[str, int | None] = dict.fromkeys(POST_FIELDS)
        self.account: dict[str, int | None] = {}

    def add(self, numbers: dict) -> None:
        self.posts += 1
        for field, value in numbers.items():
            if value is not None:
                self.numbers[field] = (self.numbers[field] or 0) + value


def update_dirty_days(*, now: datetime | None = None, dry_run: bool = False) -> int:
    marks = list(
        DirtyDay.objects.order_by("day")[: conf.get("ROLLUP_DAYS_PER_RUN")]
    )
    if dry_run:
        return len(marks)
    for mark in marks:
        recompute_day(mark.organisation_id, mark.day, marked_at=mark.marked_at)
    return len(marks)


def recompute_day(organisation_id: int, day: date, *, marked_at=None) -> int:
    """Rebuild every rollup row of one organisation's day. Returns rows."""
    with transaction.atomic():
        buckets = _buckets(organisation_id, day)
        DailyRollup.objects.filter(organisation_id=organisation_id, day=day).delete()
        rows = [
            DailyRollup(
                organisation_id=organisation_id, day=day, dimension=dimension,
                key=str(key)[:200], label=bucket.label[:200],
                network=bucket.network, posts=bucket.posts,
                **bucket.numbers, **bucket.account,
            )
            for (dimension, key), bucket in buckets.items()
        ]
        DailyRollup.objects.bulk_create(rows)
        marks = DirtyDay.objects.filter(organisation_id=organisation_id, day=day)
        if marked_at is not None:
            # Numbers that arrived while this ran bumped the mark: keep it.
            marks = marks.filter(marked_at=marked_at)
        marks.delete()
    return len(rows)


def _buckets(organisation_id: int, day: date) -> dict:
    start, end = day_bounds(day)
    channels = {
        c.pk: c for c in Channel.objects.filter(organisation_id=organisation_id)
    }
    buckets: dict[tuple[str, str], Bucket] = {}

    def bucket(dimension, key, label, network=""):
        found = buckets.get((dimension, key))
        if found is None:
            found = buckets[(dimension, key)] = Bucket(label, network)
        return found

    publications = list(
        Publication.objects.filter(
            organisation_id=organisation_id,
            status=PublicationStatus.PUBLISHED,
            published_at__gte=start,
            published_at__lt=end,
        ).values("pk", "channel_id", "post_id")
    )
    latest = dict(
        PostTracking.objects.filter(
            publication_id__in=[p["pk"] for p in publications]
        ).values_list("publication_id", "latest")
    )
    posts = {
        p["pk"]: p
        for p in Post.objects.filter(
            pk__in={p["post_id"] for p in publications if p["post_id"]}
        ).values("pk", "category", "purposes", "owner_administration_id",
                 "campaign_id")
    }
    administrations = dict(
        Administration.objects.filter(organisation_id=organisation_id).values_list(
            "pk", "code"
        )
    )
    campaigns = dict(
        Campaign.objects.filter(
            pk__in={p["campaign_id"] for p in posts.values() if p["campaign_id"]}
        ).values_list("pk", "name")
    )
    purposes = dict(Purpose.choices)
    for publication in publications:
        numbers = post_numbers(latest.get(publication["pk"]) or {})
        channel = channels.get(publication["channel_id"])
        if channel is not None:
            bucket(Dimension.CHANNEL, channel.pk, channel.display_name,
                   channel.network).add(numbers)
        post = posts.get(publication["post_id"])
        if post is None:
            continue
        category = post["category"]
        bucket(Dimension.CATEGORY, category,
               category or _("Uden kategori")).add(numbers)
        for purpose in post["purposes"] or []:
            bucket(Dimension.PURPOSE, purpose,
                   str(purposes.get(purpose, purpose))).add(numbers)
        admin_id = post["owner_administration_id"]
        if admin_id:
            bucket(Dimension.ADMINISTRATION, admin_id,
                   administrations.get(admin_id, "?")).add(numbers)
        if post["campaign_id"]:
            bucket(Dimension.CAMPAIGN, post["campaign_id"],
                   campaigns.get(post["campaign_id"], "?")).add(numbers)
    _add_account_numbers(day, channels, bucket)
    return buckets


def _add_account_numbers(day: date, channels: dict, bucket) -> None:
    samples = AccountSample.objects.filter(
        channel_id__in=list(channels), day=day, available=True
    ).values_list("channel_id", "kind", "value")
    by_channel: dict[int, dict[str, int]] = defaultdict(dict)
    for channel_id, kind, value in samples:
        numbers = by_channel[channel_id]
        if kind == "followers":
            # Two names for followers (followers_count, page_follows): the
            # larger, never their sum.
            numbers["followers"] = max(numbers.get("followers", 0), value)
        elif kind in ("views", "profile_visits"):
            field = "account_views" if kind == "views" else "profile_visits"
            numbers[field] = numbers.get(field, 0) + value
    counted = [c for c, numbers in by_channel.items() if "followers" in numbers]
    before = _followers_before(day, counted)
    for channel_id, numbers in by_channel.items():
        channel = channels[channel_id]
        target = bucket(Dimension.CHANNEL, channel.pk, channel.display_name,
                        channel.network)
        target.account.update(numbers)
        if before.get(channel_id) is not None:
            target.account["followers_change"] = (
                numbers["followers"] - before[channel_id])


def _followers_before(day: date, channel_ids: list[int]) -> dict[int, int]:
    """Each channel's last followers number before ``day``: the day before's
    for all channels in one query; a channel without one (a gap) looks
    further back on its own."""
    found: dict[int, int] = {}
    for channel_id, value in AccountSample.objects.filter(
        channel_id__in=channel_ids, kind="followers", available=True,
        day=day - timedelta(days=1),
    ).values_list("channel_id", "value"):
        found[channel_id] = max(found.get(channel_id, value), value)
    for channel_id in set(channel_ids) - set(found):
        value = (
            AccountSample.objects.filter(
                channel_id=channel_id, kind="followers", available=True,
                day__lt=day,
            )
            .order_by("-day", "-value")
            .values_list("value", flat=True)
            .first()
        )
        if value is not None:
            found[channel_id] = value
    return found
