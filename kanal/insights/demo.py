"""A plausible past year for the Copenhagen demo's dashboards.

The demo's own history (last week, published through the sandbox) is
collected the way any history is, by the worker. The year before it is
loaded here, as a municipality would import its earlier statistics: each
channel's daily snapshot under the network's metric names, the day rollups
per channel, category, purpose, administration and campaign, and the daily
#voreskbh counts. Loading again changes nothing.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from kanal.channels.models import Channel, Purpose
from kanal.organisations.models import Administration
from kanal.planning.models import Campaign

from .models import AccountSample, DailyRollup, Dimension, HashtagDay

#: network -> (followers name, [(name, kind, views per follower per day)]),
#: API version: the names the adapters read today.
ACCOUNT_METRICS = {
    "facebook": ("followers_count", "v25.0",
                 [("page_media_view", "views", 0.9),
                  ("page_total_media_view_unique", "reach", 0.55),
                  ("page_post_engagements", "engagement", 0.03)]),
    "instagram": ("follower_count", "v25.0",
                  [("views", "views", 1.1), ("reach", "reach", 0.6),
                   ("profile_views", "profile_visits", 0.02)]),
    "x": ("followers_count", "2", []),
    "mastodon": ("followers_count", "4.3", []),
    "bluesky": ("followersCount", "", []),
    "linkedin": ("followerCount", "202607", []),
    "threads": ("followers_count", "v1.0", [("views", "views", 0.7)]),
}
#: Posts per day (average) and views per post per 1,000 followers.
POSTING = {
    "facebook": (3.0, 420), "instagram": (2.5 / 7, 520), "x": (1.5, 260),
    "mastodon": (0.6, 180), "bluesky": (0.6, 220), "linkedin": (0.4, 160),
    "threads": (0.5, 300),
}
#: #voreskbh uses per day on the networks Kanal searches (38,000 a year in all).
VORESKBH_PER_DAY = {"instagram": 96, "mastodon": 3, "bluesky": 4, "x": 2}
YEAR = 365
RECENT = 8  # the last week is the demo's real, collected history


def load_insights_demo(organisation, *, today: date | None = None) -> int:
    """Load the year before the demo's last week; returns rows written."""
    today = today or timezone.localdate()
    first = today - timedelta(days=YEAR)
    last = today - timedelta(days=RECENT)
    if AccountSample.objects.filter(
        organisation=organisation, day__lte=last
    ).exists():
        return 0
    channels = list(Channel.objects.filter(organisation=organisation)
                    .select_related("strategy").order_by("pk"))
    administrations = list(Administration.objects.filter(
        organisation=organisation).order_by("pk"))
    campaigns = list(Campaign.objects.filter(organisation=organisation)
                     .order_by("pk"))
    rng = random.Random(2015)
    samples, rollups, tag_days = [], [], []
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    for channel in channels:
        samples += _account_year(channel, days, rng)
    followers = defaultdict(dict)
    for s in samples:
        if s.kind == "followers":
            followers[s.channel_id][s.day] = s.value
    account = defaultdict(dict)
    for s in samples:
        if s.kind in ("views", "profile_visits"):
            field = "account_views" if s.kind == "views" else "profile_visits"
            account[(s.channel_id, s.day)][field] = s.value
    for day in days:
        rollups += _day_rollups(organisation, day, channels, administrations,
                                campaigns, followers, account, rng)
        for network, per_day in VORESKBH_PER_DAY.items():
            weekend = 1.3 if day.weekday() >= 5 else 1.0
            summer = 1 + 0.35 * math.sin((day.timetuple().tm_yday - 80) / 58)
            uses = max(0, int(rng.gauss(per_day * weekend * summer, per_day / 5)))
            tag_days.append(HashtagDay(organisation=organisation, network=network,
                                       tag="voreskbh", day=day, uses=uses))
    with transaction.atomic():
        AccountSample.objects.bulk_create(samples, batch_size=2000)
        DailyRollup.objects.bulk_create(rollups, batch_size=2000,
                                        ignore_conflicts=True)
        HashtagDay.objects.bulk_create(tag_days, batch_size=2000,
                                       ignore_conflicts=True)
    return len(samples) + len(rollups) + len(tag_days)


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=timezone.get_current_timezone())


def _account_year(channel, days, rng) -> list[AccountSample]:
    name, version, others = ACCOUNT_METRICS.get(
        channel.network, ("followers_count", "", []))
    end = channel.follower_count or 1000
    # A year's growth of 8–14 %, a little faster in spring and autumn.
    start = int(end / (1 + rng.uniform(0.08, 0.14)))
    rows = []
    for n, day in enumerate(days):
        share = n / max(len(days) - 1, 1)
        value = int(start + (end - start) * share + rng.gauss(0, end * 0.0008))
        common = {"organisation_id": channel.organisation_id, "channel": channel,
                  "day": day, "api_version": version, "taken_at": _noon(day)}
        rows.append(AccountSample(name=name, kind="followers", value=value,
                                  **common))
        for metric, kind, per_follower in others:
            weekday = 0.8 if day.weekday() >= 5 else 1.0
            amount = max(0, int(rng.gauss(value * per_follower * weekday,
                                          value * per_follower * 0.15)))
            rows.append(AccountSample(name=metric, kind=kind, value=amount, **common))
    return rows


def _day_rollups(organisation, day, channels, administrations, campaigns,
                 followers, account, rng) -> list[DailyRollup]:
    buckets: dict[tuple[str, str], dict] = {}
    purposes = dict(Purpose.choices)

    def add(dimension, key, label, numbers, network=""):
        row = buckets.setdefault((dimension, str(key)), {
            "label": str(label), "network": network, "posts": 0, "views": 0,
            "reach": 0, "engagement": 0, "clicks": 0})
        row["posts"] += 1
        for field in ("views", "reach", "engagement", "clicks"):
            row[field] += numbers[field]

    running = [c for c in campaigns
               if not c.starts_on or c.starts_on <= day + timedelta(days=30)]
    for channel in channels:
        per_day, views_per_k = POSTING.get(channel.network, (0.5, 200))
        count = _poisson(rng, per_day * (0.6 if day.weekday() >= 5 else 1.1))
        size = followers[channel.pk].get(day, channel.follower_count or 1000)
        strategy = getattr(channel, "strategy", None)
        categories = (strategy.categories if strategy else []) or [""]
        channel_purposes = (strategy.purposes if strategy else []) or []
        for _n in range(count):
            views = max(10, int(rng.lognormvariate(0, 0.6) * views_per_k * size
                                / 1000))
            reach = int(views * rng.uniform(0.6, 0.85))
            engagement = int(reach * rng.uniform(0.015, 0.07))
            numbers = {"views": views, "reach": reach, "engagement": engagement,
                       "clicks": int(reach * rng.uniform(0.002, 0.02))}
            add(Dimension.CHANNEL, channel.pk, channel.display_name, numbers,
                channel.network)
            category = rng.choice(categories)
            add(Dimension.CATEGORY, category, category or "Uden kategori", numbers)
            for purpose in rng.sample(channel_purposes,
                                      k=min(len(channel_purposes), rng.randint(1, 2))):
                add(Dimension.PURPOSE, purpose, purposes.get(purpose, purpose),
                    numbers)
            if administrations:
                # The central desk (KFF) writes most; the others some.
                admin = administrations[1] if rng.random() < 0.55 and len(
                    administrations) > 1 else rng.choice(administrations)
                add(Dimension.ADMINISTRATION, admin.pk, admin.code, numbers)
            if running and rng.random() < 0.25:
                campaign = rng.choice(running)
                add(Dimension.CAMPAIGN, campaign.pk, campaign.name, numbers)
    rows = []
    for channel in channels:
        key = (Dimension.CHANNEL, str(channel.pk))
        today_followers = followers[channel.pk].get(day)
        yesterday = followers[channel.pk].get(day - timedelta(days=1))
        if key not in buckets and today_followers is None:
            continue
        row = buckets.setdefault(key, {
            "label": channel.display_name, "network": channel.network, "posts": 0,
            "views": None, "reach": None, "engagement": None, "clicks": None})
        row["followers"] = today_followers
        row["followers_change"] = (today_followers - yesterday
                                   if today_followers is not None
                                   and yesterday is not None else None)
        row.update(account.get((channel.pk, day), {}))
    for (dimension, key), row in buckets.items():
        rows.append(DailyRollup(organisation=organisation, day=day,
                                dimension=dimension, key=key[:200], **row))
    return rows


def _poisson(rng, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
