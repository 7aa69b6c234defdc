"""Reads for the dashboards and exports. Every page reads rollups (one row
per day and dimension value) and, for top posts, one tracking row per post;
no page scans the raw samples (a single post's own page reads its own)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kanal.channels.models import Channel, StrategyProfile
from kanal.publishing.models import Publication, PublicationStatus

from .models import DailyRollup, Dimension, PostSample, PostTracking
from .rollups import day_bounds, post_numbers

SUMS = ("posts", "views", "reach", "engagement", "clicks", "account_views",
        "profile_visits", "followers_change")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    def each_day(self):
        for n in range(self.days):
            yield self.start + timedelta(days=n)

    @property
    def step(self) -> str:
        """How finely a chart over this period is drawn: by day up to a
        quarter, by week up to two years, by month beyond."""
        if self.days <= 92:
            return "day"
        return "week" if self.days <= 731 else "month"

    def bucket(self, day: date) -> date:
        """The first day of the step ``day`` falls in."""
        if self.step == "week":
            return max(self.start, day - timedelta(days=day.weekday()))
        if self.step == "month":
            return max(self.start, day.replace(day=1))
        return day

    def buckets(self) -> list[date]:
        return sorted({self.bucket(day) for day in self.each_day()})


STEP_LABELS = {
    "day": gettext_lazy("Dag"),
    "week": gettext_lazy("Uge (fra)"),
    "month": gettext_lazy("Måned (fra)"),
}


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # text | number | percent | change | date | datetime


@dataclass
class Table:
    """One table of a dashboard: shown under its chart, exported as is."""

    slug: str
    title: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)

    def cells(self):
        for row in self.rows:
            yield row, [(column, row.get(column.key)) for column in self.columns]


def engagement_rate(engagement, reach, views) -> float | None:
    """Interactions per person reached (or per view where reach is not
    offered), in percent; None without a denominator."""
    base = reach or views
    if engagement is None or not base:
        return None
    return round(100 * engagement / base, 2)


def change(now, before) -> float | None:
    if now is None or not before:
        return None
    return round(100 * (now - before) / before, 1)


def _totals(organisation_id: int, dimension: str, period: Period) -> dict:
    rows = (
        DailyRollup.objects.filter(
            organisation_id=organisation_id, dimension=dimension,
            day__gte=period.start, day__lte=period.end,
        )
        .values("key")
        .annotate(**{name: Sum(name) for name in SUMS})
    )
    return {row["key"]: row for row in rows}


def _labels(organisation_id: int, dimension: str, period: Period) -> dict:
    return dict(
        DailyRollup.objects.filter(
            organisation_id=organisation_id, dimension=dimension,
            day__gte=period.start, day__lte=period.end,
        )
        .order_by("day")
        .values_list("key", "label")
    )


def breakdown(organisation_id: int, dimension: str, period: Period) -> Table:
    """Posts and their numbers per value of ``dimension``, against the
    previous period of the same length."""
    now = _totals(organisation_id, dimension, period)
    before = _totals(organisation_id, dimension, period.previous())
    labels = _labels(organisation_id, dimension, period)
    table = Table(
        f"{dimension}", str(Dimension(dimension).label),
        [
            Column("label", str(Dimension(dimension).label)),
            Column("posts", _("Opslag"), "number"),
            Column("views", _("Visninger"), "number"),
            Column("reach", _("Rækkevidde"), "number"),
            Column("engagement", _("Interaktioner"), "number"),
            Column("rate", _("Engagementsrate (%)"), "percent"),
            Column("clicks", _("Klik"), "number"),
            Column("previous_engagement", _("Interaktioner, forrige periode"),
                   "number"),
            Column("engagement_change", _("Ændring (%)"), "change"),
        ],
    )
    for key, row in now.items():
        prior = before.get(key, {})
        table.rows.append({
            "key": key,
            "label": labels.get(key, key),
            "posts": row["posts"],
            "views": row["views"],
            "reach": row["reach"],
            "engagement": row["engagement"],
            "rate": engagement_rate(row["engagement"], row["reach"], row["views"]),
            "clicks": row["clicks"],
            "previous_engagement": prior.get("engagement"),
            "engagement_change": change(row["engagement"], prior.get("engagement")),
        })
    table.rows.sort(key=lambda r: (-(r["engagement"] or 0), -r["posts"], r["label"]))
    return table


def channel_overview(organisation_id: int, period: Period) -> Table:
    """Per channel: followers at the end, growth, reach and views, the
    engagement rate, against the previous period."""
    now = _totals(organisation_id, Dimension.CHANNEL, period)
    before = _totals(organisation_id, Dimension.CHANNEL, period.previous())
    followers = _followers_at_end(organisation_id, period)
    channels = {
        str(c.pk): c
        for c in Channel.objects.filter(organisation_id=organisation_id)
    }
    table = Table(
        "channels", _("Kanaler"),
        [
            Column("label", _("Kanal")),
            Column("network", _("Netværk")),
            Column("followers", _("Følgere"), "number"),
            Column("followers_change", _("Tilvækst"), "number"),
            Column("previous_followers_change", _("Tilvækst, forrige periode"),
                   "number"),
            Column("posts", _("Opslag"), "number"),
            Column("account_views", _("Visninger af kontoen"), "number"),
            Column("reach", _("Rækkevidde (opslag)"), "number"),
            Column("views", _("Visninger (opslag)"), "number"),
            Column("engagement", _("Interaktioner"), "number"),
            Column("rate", _("Engagementsrate (%)"), "percent"),
            Column("previous_rate", _("Engagementsrate, forrige periode (%)"),
                   "percent"),
        ],
    )
    for key, row in now.items():
        channel = channels.get(key)
        prior = before.get(key, {})
        table.rows.append({
            "key": key,
            "label": (channel_label(channel.display_name, channel.network)
                      if channel else key),
            "network": channel.get_network_display() if channel else "",
            "followers": followers.get(key),
            "followers_change": row["followers_change"],
            "previous_followers_change": prior.get("followers_change"),
            "posts": row["posts"],
            "account_views": row["account_views"],
            "reach": row["reach"],
            "views": row["views"],
            "engagement": row["engagement"],
            "rate": engagement_rate(row["engagement"], row["reach"], row["views"]),
            "previous_rate": engagement_rate(
                prior.get("engagement"), prior.get("reach"), prior.get("views")
            ),
        })
    table.rows.sort(key=lambda r: (-(r["followers"] or 0), r["label"]))
    return table


def _followers_at_end(organisation_id: int, period: Period) -> dict:
    found = {}
    for key, value in (
        DailyRollup.objects.filter(
            organisation_id=organisation_id, dimension=Dimension.CHANNEL,
            day__gte=period.start, day__lte=period.end, followers__isnull=False,
        )
        .order_by("day")
        .values_list("key", "followers")
    ):
        found[key] = value
    return found


#: The organisation's totals a report compares between periods.
TOTAL_LABELS = (
    ("posts", gettext_lazy("Udgivne opslag")),
    ("views", gettext_lazy("Visninger")),
    ("reach", gettext_lazy("Rækkevidde")),
    ("engagement", gettext_lazy("Interaktioner")),
    ("clicks", gettext_lazy("Klik")),
    ("followers", gettext_lazy("Følgere ved periodens slut")),
    ("followers_change", gettext_lazy("Tilvækst i følgere")),
)


def period_totals(organisation_id: int, period: Period) -> dict:
    """The whole organisation's numbers in ``period`` (all channels); a
    number no channel had is None ("ingen data")."""
    totals = DailyRollup.objects.filter(
        organisation_id=organisation_id, dimension=Dimension.CHANNEL,
        day__gte=period.start, day__lte=period.end,
    ).aggregate(**{name: Sum(name) for name in SUMS})
    followers = _followers_at_end(organisation_id, period)
    totals["followers"] = sum(followers.values()) if followers else None
    return totals


NETWORKS = dict(Channel._meta.get_field("network").choices)


def channel_label(name: str, network: str) -> str:
    """A channel as people tell them apart: several share the city's name."""
    return f"{name} ({NETWORKS.get(network, network)})" if network else name


def followers_series(organisation_id: int, period: Period) -> dict:
    """Chart data: followers per channel per day (None: no reading)."""
    by_key: dict[str, dict[date, int]] = defaultdict(dict)
    labels = {}
    for key, label, network, day, value in DailyRollup.objects.filter(
        organisation_id=organisation_id, dimension=Dimension.CHANNEL,
        day__gte=period.start, day__lte=period.end, followers__isnull=False,
    ).values_list("key", "label", "network", "day", "followers"):
        # The last reading of each step (day, week or month).
        bucket = period.bucket(day)
        seen = by_key[key].get(bucket)
        if seen is None or seen[0] <= day:
            by_key[key][bucket] = (day, value)
        labels[key] = channel_label(label, network)
    days = period.buckets()
    return {
        "type": "line",
        "labels": [d.isoformat() for d in days],
        "datasets": [
            {"label": labels[key],
             "data": [values[d][1] if d in values else None for d in days]}
            for key, values in sorted(by_key.items(), key=lambda kv: labels[kv[0]])
        ],
    }


def followers_table(organisation_id: int, period: Period) -> tuple[Table, dict]:
    """The followers chart and the same numbers as a table (day × channel)."""
    chart = followers_series(organisation_id, period)
    columns = [Column("day", str(STEP_LABELS[period.step]), "date")] + [
        Column(f"c{n}", d["label"], "number") for n, d in enumerate(chart["datasets"])
    ]
    rows = []
    for i, label in enumerate(chart["labels"]):
        row = {"day": date.fromisoformat(label)}
        for n, dataset in enumerate(chart["datasets"]):
            row[f"c{n}"] = dataset["data"][i]
        rows.append(row)
    if not chart["datasets"]:
        rows = []
    title = {"day": _("Følgere pr. kanal pr. dag"),
             "week": _("Følgere pr. kanal pr. uge"),
             "month": _("Følgere pr. kanal pr. måned")}[period.step]
    return Table("followers", title, columns, rows), chart


def bar_chart(table: Table, value: str, label: str) -> dict:
    return {
        "type": "bar",
        "labels": [str(r["label"]) for r in table.rows],
        "datasets": [{"label": label, "data": [r.get(value) for r in table.rows]}],
    }


def top_posts(organisation_id: int, period: Period, limit: int = 10) -> Table:
    """The period's most engaging posts, ordered in the database."""
    from django.db.models import F

    start, _end = day_bounds(period.start)
    _start, end = day_bounds(period.end)
    # The order is found on the tracking rows alone; only the few on top are
    # joined to their publication and channel (joining first made PostgreSQL
    # read every publication of the period).
    top = list(PostTracking.objects.filter(
        channel__organisation_id=organisation_id,
        published_at__gte=start,
        published_at__lt=end,
    ).order_by(
        F("engagement").desc(nulls_last=True), F("views").desc(nulls_last=True),
        "pk",
    ).values_list("pk", flat=True)[:limit])
    details = {
        row[0]: row[1:]
        for row in PostTracking.objects.filter(pk__in=top).values_list(
            "pk", "publication_id", "publication__text", "publication__url",
            "published_at", "channel__display_name", "channel__network", "latest",
        )
    }
    trackings = [details[pk] for pk in top if pk in details]
    rows = []
    for pk, text, url, published_at, name, network, latest in trackings:
        numbers = post_numbers(latest or {})
        rows.append({
            "key": pk,
            "label": (text or "").strip().splitlines()[0][:80] if text else "",
            "url": url,
            "channel": channel_label(name, network),
            "published_at": published_at,
            **numbers,
            "rate": engagement_rate(numbers["engagement"], numbers["reach"],
                                    numbers["views"]),
        })
    return Table(
        "top_posts", _("Mest engagerende opslag"),
        [
            Column("label", _("Opslag")),
            Column("channel", _("Kanal")),
            Column("published_at", _("Udgivet"), "datetime"),
            Column("views", _("Visninger"), "number"),
            Column("reach", _("Rækkevidde"), "number"),
            Column("engagement", _("Interaktioner"), "number"),
            Column("rate", _("Engagementsrate (%)"), "percent"),
        ],
        rows,
    )


CADENCE_LABELS = {"day": gettext_lazy("pr. dag"), "week": gettext_lazy("pr. uge")}


def cadence(organisation_id: int, period: Period) -> Table:
    """Published posts per channel per day (or week) against the strategy's
    target: how many days (weeks) were under, within and over it."""
    counts: dict[str, dict[date, int]] = defaultdict(dict)
    for key, day, posts in DailyRollup.objects.filter(
        organisation_id=organisation_id, dimension=Dimension.CHANNEL,
        day__gte=period.start, day__lte=period.end,
    ).values_list("key", "day", "posts"):
        counts[key][day] = posts
    table = Table(
        "cadence", _("Kadence mod strategien"),
        [
            Column("label", _("Kanal")),
            Column("target", _("Mål")),
            Column("average", _("Gennemsnit")),
            Column("under", _("Under målet"), "number"),
            Column("within", _("Inden for målet"), "number"),
            Column("over", _("Over målet"), "number"),
        ],
    )
    profiles = StrategyProfile.objects.filter(
        channel__organisation_id=organisation_id
    ).select_related("channel").order_by("channel__display_name")
    for profile in profiles:
        if not profile.cadence_max:
            continue
        per_day = counts.get(str(profile.channel_id), {})
        if profile.cadence_period == "week":
            buckets: dict[tuple, int] = defaultdict(int)
            for day in period.each_day():
                buckets[day.isocalendar()[:2]] += per_day.get(day, 0)
            values = list(buckets.values())
        else:
            values = [per_day.get(day, 0) for day in period.each_day()]
        unit = CADENCE_LABELS.get(profile.cadence_period, "")
        average = sum(values) / len(values) if values else 0
        table.rows.append({
            "key": profile.channel_id,
            "label": channel_label(profile.channel.display_name,
                                   profile.channel.network),
            "target": f"{profile.cadence_min}–{profile.cadence_max} {unit}",
            "average": f"{average:.1f}".replace(".", ",") + f" {unit}",
            "average_value": round(average, 2),
            "under": sum(1 for v in values if v < profile.cadence_min),
            "within": sum(1 for v in values
                          if profile.cadence_min <= v <= profile.cadence_max),
            "over": sum(1 for v in values if v > profile.cadence_max),
        })
    return table


def cadence_chart(table: Table) -> dict:
    return {
        "type": "bar",
        "labels": [r["label"] for r in table.rows],
        "stacked": True,
        "datasets": [
            {"label": str(_("Under målet")), "data": [r["under"] for r in table.rows]},
            {"label": str(_("Inden for målet")),
             "data": [r["within"] for r in table.rows]},
            {"label": str(_("Over målet")), "data": [r["over"] for r in table.rows]},
        ],
    }


def publication_series(publication: Publication) -> tuple[Table, dict]:
    """A post's own numbers over time: one row per reading, one column per
    metric as the network named it (unavailable: empty)."""
    samples = PostSample.objects.filter(publication=publication).order_by(
        "taken_at", "name"
    ).values_list("taken_at", "name", "kind", "api_version", "value", "available")
    names: dict[str, str] = {}
    by_time: dict = defaultdict(dict)
    for taken_at, name, _kind, version, value, _available in samples:
        names.setdefault(name, f"{name} ({version})" if version else name)
        by_time[taken_at][name] = value
    columns = [Column("taken_at", _("Målt"), "datetime")] + [
        Column(name, label, "number") for name, label in names.items()
    ]
    rows = [{"taken_at": t, **values} for t, values in sorted(by_time.items())]
    chart = {
        "type": "line",
        "labels": [t.isoformat() for t in sorted(by_time)],
        "time": True,
        "datasets": [
            {"label": names[name], "data": [by_time[t].get(name) for t in
                                            sorted(by_time)]}
            for name in names
        ],
    }
    return Table("post", _("Opslagets tal over tid"), columns, rows), chart


def published_in(organisation_id: int):
    return Publication.objects.filter(
        organisation_id=organisation_id, status=PublicationStatus.PUBLISHED
    )


#: Every table a dashboard shows, by its slug (exports name them so).
BREAKDOWNS = ("category", "purpose", "administration", "campaign")
TABLES = ("followers", "channels", "top_posts", "cadence", "dialogue", "hashtags",
          "hashtag_days", "contributors", *BREAKDOWNS)


def build_table(organisation_id: int, slug: str, period: Period) -> Table:
    if slug == "followers":
        return followers_table(organisation_id, period)[0]
    if slug == "channels":
        return channel_overview(organisation_id, period)
    if slug == "top_posts":
        return top_posts(organisation_id, period, limit=1000)
    if slug == "cadence":
        return cadence(organisation_id, period)
    if slug == "dialogue":
        return dialogue(organisation_id, period)
    if slug == "hashtags":
        return hashtag_tables(organisation_id, period)[0]
    if slug == "hashtag_days":
        return hashtag_tables(organisation_id, period)[1]
    if slug == "contributors":
        return hashtag_contributors(organisation_id, period, limit=1000)
    if slug in BREAKDOWNS:
        return breakdown(organisation_id, slug, period)
    raise KeyError(slug)


def export_size(organisation_id: int, period: Period) -> int:
    """Roughly how many rows an export reads (rollup rows in the period)."""
    return DailyRollup.objects.filter(
        organisation_id=organisation_id, day__gte=period.start, day__lte=period.end
    ).count()


def hashtag_tables(organisation_id: int, period: Period) -> tuple[Table, Table, dict]:
    """Uses per tag and network (against the previous period), and uses per
    day per tag (the chart and its table)."""
    from .models import HashtagDay

    def totals(p: Period) -> dict:
        return {
            (row["tag"], row["network"]): row["n"]
            for row in HashtagDay.objects.filter(
                organisation_id=organisation_id, day__gte=p.start, day__lte=p.end
            ).values("tag", "network").annotate(n=Sum("uses"))
        }

    now, before = totals(period), totals(period.previous())
    networks = NETWORKS
    by_network = Table("hashtags", _("Brug af hashtags pr. netværk"), [
        Column("label", _("Hashtag")),
        Column("network", _("Netværk")),
        Column("uses", _("Brug"), "number"),
        Column("previous", _("Brug, forrige periode"), "number"),
        Column("change", _("Ændring (%)"), "change"),
    ])
    for (tag, network), uses in sorted(now.items(), key=lambda kv: -kv[1]):
        by_network.rows.append({
            "key": f"{tag}:{network}", "label": f"#{tag}",
            "network": str(networks.get(network, network)), "uses": uses,
            "previous": before.get((tag, network)),
            "change": change(uses, before.get((tag, network))),
        })
    per_day: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for tag, day, uses in HashtagDay.objects.filter(
        organisation_id=organisation_id, day__gte=period.start, day__lte=period.end
    ).values_list("tag", "day", "uses"):
        per_day[tag][period.bucket(day)] += uses
    tags = sorted(per_day)
    days = period.buckets()
    title = {"day": _("Brug af hashtags pr. dag"),
             "week": _("Brug af hashtags pr. uge"),
             "month": _("Brug af hashtags pr. måned")}[period.step]
    daily = Table("hashtag_days", title, [
        Column("day", str(STEP_LABELS[period.step]), "date"),
        *[Column(f"t{n}", f"#{tag}", "number") for n, tag in enumerate(tags)],
    ])
    if tags:
        daily.rows = [
            {"day": day, **{f"t{n}": per_day[tag].get(day, 0)
                            for n, tag in enumerate(tags)}}
            for day in days
        ]
    chart = {
        "type": "line",
        "labels": [d.isoformat() for d in days],
        "datasets": [{"label": f"#{tag}", "data": [per_day[tag].get(d, 0)
                                                   for d in days]} for tag in tags],
    }
    return by_network, daily, chart


def hashtag_contributors(organisation_id: int, period: Period,
                         limit: int = 10) -> Table:
    from django.db.models import Count

    from .models import HashtagUse

    rows = (
        HashtagUse.objects.filter(
            organisation_id=organisation_id, day__gte=period.start,
            day__lte=period.end,
        ).exclude(author_name="")
        .values("author_name", "network").annotate(n=Count("pk"))
        .order_by("-n", "author_name")[:limit]
    )
    return Table("contributors", _("Flest opslag med hashtags"), [
        Column("label", _("Afsender")),
        Column("network", _("Netværk")),
        Column("uses", _("Opslag"), "number"),
    ], [{"key": r["author_name"], "label": r["author_name"],
         "network": r["network"], "uses": r["n"]} for r in rows])


def hashtag_gallery(organisation_id: int, period: Period, limit: int = 30):
    from .models import HashtagUse

    return HashtagUse.objects.filter(
        organisation_id=organisation_id, day__gte=period.start, day__lte=period.end
    ).order_by("-posted_at", "-pk")[:limit]


def instagram_budget(organisation_id: int, *, now) -> list[dict]:
    from .hashtags import plan_instagram, searching_channels, wanted_tags

    channel = searching_channels(organisation_id).get("instagram")
    if channel is None:
        return []
    tags = wanted_tags(organisation_id)
    plan = plan_instagram(channel.pk, tags, now=now)
    return [{"channel": channel, "plan": plan}]


def dialogue(organisation_id: int, period: Period) -> Table:
    """The inbox's conversations begun in ``period``, per channel: how many,
    how many answered, the share answered within the organisation's response
    target, the median first response, and how many were negative, carried
    personal data or were hidden. One grouped read of the conversations
    (their own table, not raw samples). Hidden: the conversation is
    *Skjult*, or an item of it stands hidden on the network (the guard hides
    a comment with personal data and the conversation stays open; a spam
    reply hidden under an open question leaves the question open)."""
    from statistics import median

    from kanal.inbox.models import Conversation, ConversationStatus, InboxItem

    start, _end = day_bounds(period.start)
    _start, end = day_bounds(period.end)
    table = Table(
        "dialogue", _("Dialog pr. kanal"),
        [
            Column("label", _("Kanal")),
            Column("conversations", _("Samtaler"), "number"),
            Column("answered", _("Besvaret"), "number"),
            Column("on_time", _("Besvaret i tide"), "percent"),
            Column("median_hours", _("Median for første svar (timer)"), "number"),
            Column("negative", _("Negative"), "number"),
            Column("personal_data", _("Med personoplysninger"), "number"),
            Column("hidden", _("Skjult"), "number"),
        ],
    )
    rows: dict[int, dict] = {}
    waits: dict[int, list[float]] = defaultdict(list)
    for (channel_id, name, network, status, negative, personal, on_time,
         created, first, hidden_item) in Conversation.objects.filter(
        organisation_id=organisation_id, created_at__gte=start, created_at__lt=end,
    ).annotate(hidden_item=Exists(InboxItem.objects.filter(
        conversation=OuterRef("pk"), hidden_on_network=True,
    ))).values_list(
        "channel_id", "channel__display_name", "channel__network", "status",
        "negative", "has_personal_data", "answered_on_time", "created_at",
        "first_response_at", "hidden_item",
    ).order_by("channel__display_name", "channel_id"):
        row = rows.setdefault(channel_id, {
            "key": channel_id, "label": channel_label(name, network),
            "conversations": 0, "answered": 0, "timed": 0, "in_time": 0,
            "negative": 0, "personal_data": 0, "hidden": 0,
        })
        row["conversations"] += 1
        row["negative"] += bool(negative)
        row["personal_data"] += bool(personal)
        row["hidden"] += status == ConversationStatus.HIDDEN or hidden_item
        if first is not None:
            row["answered"] += 1
            waits[channel_id].append((first - created).total_seconds() / 3600)
        if on_time is not None:
            row["timed"] += 1
            row["in_time"] += bool(on_time)
    for channel_id, row in rows.items():
        row["on_time"] = (100 * row["in_time"] / row["timed"]) if row["timed"] else None
        found = waits.get(channel_id)
        row["median_hours"] = round(median(found), 1) if found else None
        table.rows.append(row)
    return table


def dialogue_chart(table: Table) -> dict:
    return {
        "type": "bar",
        "labels": [r["label"] for r in table.rows],
        "datasets": [
            {"label": str(_("Samtaler")),
             "data": [r["conversations"] for r in table.rows]},
            {"label": str(_("Besvaret")), "data": [r["answered"] for r in table.rows]},
        ],
    }
