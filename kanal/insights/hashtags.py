"""Hashtag tracking: which tags to count, the Instagram budget planner, and
the periodic search through each network's adapter."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from kanal.channels.adapters import adapter_for
from kanal.channels.models import Channel, ChannelStatus, StrategyProfile
from kanal.channels.networks.errors import NetworkError, RateLimited
from kanal.core.safety import plain_text
from kanal.planning.models import Campaign
from kanal.untrusted import plausible_time, safe_url, usable_id

from .models import HashtagDay, HashtagSearch, HashtagUse

logger = logging.getLogger(__name__)

#: Instagram: unique hashtags one account may search in a rolling window.
INSTAGRAM_BUDGET = 30
INSTAGRAM_WINDOW = timedelta(days=7)
#: The longest tag Kanal counts (its column).
TAG_LIMIT = 100
#: Networks whose adapters search tags (Threads and LinkedIn do not).
SEARCHING_NETWORKS = ("instagram", "mastodon", "bluesky", "x")


def normalise(tag: str) -> str:
    return str(tag).strip().lstrip("#＃").strip().lower()


def wanted_tags(organisation_id: int, *, today=None) -> list[str]:
    """The tags to count, most important first: the channels' own hashtags
    (#voreskbh), then the hashtags of running campaigns (newest first)."""
    today = today or timezone.localdate()
    tags: list[str] = []
    for hashtags in StrategyProfile.objects.filter(
        channel__organisation_id=organisation_id
    ).values_list("default_hashtags", flat=True):
        tags += [normalise(t) for t in hashtags or []]
    campaigns = Campaign.objects.filter(organisation_id=organisation_id).exclude(
        ends_on__lt=today - timedelta(days=7)
    ).order_by("-starts_on", "-pk")
    for hashtags in campaigns.values_list("hashtags", flat=True):
        tags += [normalise(t) for t in hashtags or []]
    seen: list[str] = []
    for tag in tags:
        # A tag longer than any network allows is no tag to search.
        if tag and len(tag) <= TAG_LIMIT and tag not in seen:
            seen.append(tag)
    return seen


@dataclass
class BudgetPlan:
    """What one Instagram account searches now, and what it cannot."""

    search: list[str] = field(default_factory=list)
    not_covered: list[str] = field(default_factory=list)
    used: int = 0  # unique tags counted in the window after this plan
    budget: int = INSTAGRAM_BUDGET


def plan_instagram(channel_id: int, tags: list[str], *, now: datetime) -> BudgetPlan:
    """Never more than 30 unique tags in 7 days: tags already searched in the
    window are free; new ones only while there is room, in priority order."""
    in_window = set(
        HashtagSearch.objects.filter(
            channel_id=channel_id, first_searched_at__gt=now - INSTAGRAM_WINDOW
        ).values_list("tag", flat=True)
    )
    plan = BudgetPlan(used=len(in_window))
    for tag in tags:
        if tag in in_window:
            plan.search.append(tag)
        elif plan.used < INSTAGRAM_BUDGET:
            plan.search.append(tag)
            plan.used += 1
        else:
            plan.not_covered.append(tag)
    return plan


def _record_search(channel_id: int, tag: str, now: datetime) -> None:
    row = HashtagSearch.objects.filter(channel_id=channel_id, tag=tag).first()
    if row is None:
        HashtagSearch.objects.create(channel_id=channel_id, tag=tag,
                                     first_searched_at=now, last_searched_at=now)
    elif row.first_searched_at <= now - INSTAGRAM_WINDOW:
        row.first_searched_at = now
        row.last_searched_at = now
        row.save(update_fields=["first_searched_at", "last_searched_at"])
    else:
        row.last_searched_at = now
        row.save(update_fields=["last_searched_at"])


def record_uses(organisation_id: int, network: str, tag: str, posts, *,
                now: datetime) -> int:
    """Store the posts found (each once) and recount their days.

    What the network sends is checked first (``kanal.untrusted``): a post
    without a usable id is skipped, never cut into another post's id; control
    characters leave the name and the text; a link that is not a plain https
    address Kanal can keep is left out; a time that cannot be the post's
    counts as the time it was found."""
    rows = []
    for post in posts:
        remote_id = usable_id(post.remote_id)
        if not remote_id:
            if post.remote_id:
                logger.warning("insights: %s #%s post with an id Kanal cannot "
                               "keep skipped", network, tag)
            continue
        posted = plausible_time(post.created_at, now=now)
        if posted is not None and posted > now + timedelta(minutes=5):
            # A network clock ahead of Kanal's: the post is not from the future.
            posted = now
        url = safe_url(post.url)
        rows.append(HashtagUse(
            organisation_id=organisation_id, network=network, tag=tag,
            remote_id=remote_id,
            author_name=plain_text(post.author_name, max_length=200),
            text=plain_text(post.text, max_length=500),
            url=url if url.startswith("https://") else "",
            posted_at=posted, found_at=now,
            day=timezone.localdate(posted or now),
        ))
    with transaction.atomic():
        before = HashtagUse.objects.filter(
            organisation_id=organisation_id, network=network, tag=tag
        ).count()
        HashtagUse.objects.bulk_create(rows, ignore_conflicts=True)
        days = {r.day for r in rows}
        counts = dict(
            HashtagUse.objects.filter(
                organisation_id=organisation_id, network=network, tag=tag,
                day__in=days,
            ).values_list("day").annotate(n=Count("pk")).values_list("day", "n")
        )
        for day in days:
            HashtagDay.objects.update_or_create(
                organisation_id=organisation_id, network=network, tag=tag, day=day,
                defaults={"uses": counts.get(day, 0)},
            )
        after = HashtagUse.objects.filter(
            organisation_id=organisation_id, network=network, tag=tag
        ).count()
    return after - before


def searching_channels(organisation_id: int) -> dict[str, Channel]:
    """One connected channel per network that can search tags."""
    found: dict[str, Channel] = {}
    for channel in Channel.objects.filter(
        organisation_id=organisation_id, status=ChannelStatus.CONNECTED,
        network__in=SEARCHING_NETWORKS,
    ).order_by("pk"):
        found.setdefault(channel.network, channel)
    return found


@dataclass(frozen=True)
class Search:
    """One tag to search on one channel, and when it was searched last."""

    organisation_id: int
    channel: Channel
    tag: str
    last_searched_at: datetime | None


def due_searches(*, now: datetime) -> list[Search]:
    """Every wanted tag on every network that can search it (Instagram only
    within its budget), the one searched longest ago first (never searched,
    in the organisation's priority order, before all)."""
    from kanal.organisations.models import Organisation

    searches: list[Search] = []
    for organisation_id in Organisation.objects.order_by("pk").values_list(
            "pk", flat=True):
        tags = wanted_tags(organisation_id, today=timezone.localdate(now))
        if not tags:
            continue
        for network, channel in searching_channels(organisation_id).items():
            plan_tags = tags
            if network == "instagram":
                plan = plan_instagram(channel.pk, tags, now=now)
                plan_tags = plan.search
                for tag in plan.not_covered:
                    logger.info("insights: #%s not searched on Instagram (budget "
                                "of 30 in 7 days used)", tag)
            last = dict(HashtagSearch.objects.filter(
                channel=channel, tag__in=plan_tags).values_list(
                    "tag", "last_searched_at"))
            searches += [Search(organisation_id, channel, tag, last.get(tag))
                         for tag in plan_tags]
    # A stable sort: equal waits keep the organisation's priority order.
    searches.sort(key=lambda s: (s.last_searched_at is not None,
                                 s.last_searched_at or now))
    return searches


def collect_hashtags(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Search the due tags, the one searched longest ago first, until the
    run's time budget (``HASHTAGS_RUN_SECONDS``) is used; new uses found (in
    a dry run: the searches that would be made). Each search is guarded: one
    that fails is logged and the others go on; a network that asks Kanal to
    wait is not asked again in this run."""
    from kanal.publishing.periodic import each_guarded

    from . import conf

    now = now or timezone.now()
    searches = due_searches(now=now)
    if dry_run:
        return len(searches)
    paused: set[int] = set()
    return each_guarded(
        "insights_hashtags", searches,
        lambda search: search_once(search, now=now, paused=paused),
        budget_seconds=conf.get("HASHTAGS_RUN_SECONDS"),
    )


def search_once(search: Search, *, now: datetime, paused: set[int]) -> int:
    """Search one tag on one channel and store what was found; the new uses.
    A channel in ``paused`` (its network asked Kanal to wait) is not asked."""
    channel = search.channel
    if channel.pk in paused:
        return 0
    try:
        page = adapter_for(channel).search_hashtag(search.tag)
    except RateLimited as error:
        logger.info("insights: %s hashtag search paused: %s", channel.network,
                    error)
        paused.add(channel.pk)
        return 0
    except NetworkError as error:
        logger.warning("insights: %s #%s search failed: %s", channel.network,
                       search.tag, error)
        return 0
    _record_search(channel.pk, search.tag, now)
    return record_uses(search.organisation_id, channel.network, search.tag,
                       page.posts, now=now)
