"""Reads for the calendar, the queues, the report and the feed.

The calendar reads plain values in a fixed number of queries, whatever the
number of posts shown (``bench/planning_calendar.py`` checks this).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from kanal.channels.models import CadencePeriod, Channel, ChannelStatus, Purpose
from kanal.channels.policies import channel_policy
from kanal.core.formatting import when

from . import overlays
from .models import (
    PLANNED_STATES,
    Outcome,
    Post,
    PostStatus,
    Variant,
    variant_outcome,
)
from .policies import post_policy
from .timeutil import COPENHAGEN, local_day_bounds

# Column heads and cadence chips: Monday first, in the reader's language.
WEEKDAYS = [
    pgettext_lazy("weekday", "man."),
    pgettext_lazy("weekday", "tir."),
    pgettext_lazy("weekday", "ons."),
    pgettext_lazy("weekday", "tor."),
    pgettext_lazy("weekday", "fre."),
    pgettext_lazy("weekday", "lør."),
    pgettext_lazy("weekday", "søn."),
]
NETWORK_SHORT = {
    "facebook": "FB",
    "instagram": "IG",
    "x": "X",
    "mastodon": "MA",
    "bluesky": "BS",
    "linkedin": "LI",
    "threads": "TH",
}
DAY_LIMIT = 6


@dataclass
class CalendarFilter:
    channel: int | None = None
    administration: int | None = None
    category: str = ""
    purpose: str = ""
    campaign: int | None = None
    status: str = ""

    @property
    def active(self) -> bool:
        return any(
            [
                self.channel,
                self.administration,
                self.category,
                self.purpose,
                self.campaign,
                self.status,
            ]
        )


@dataclass
class Entry:
    post_id: int
    title: str
    status: str
    status_label: str
    time: datetime
    administration: str
    networks: list[str] = field(default_factory=list)
    draggable: bool = False
    url: str = ""
    move_url: str = ""
    clock: str = ""


@dataclass
class Day:
    date: date
    in_month: bool
    is_today: bool
    entries: list[Entry] = field(default_factory=list)
    more: int = 0
    cadence: list[dict] = field(default_factory=list)
    # What other apps place on this day (planning.overlays), e.g. suggestions.
    overlays: list = field(default_factory=list)

    @property
    def cadence_html(self) -> str:
        return mark_safe("".join(c["html"] for c in self.cadence))  # noqa: S308


def visible_variants(actor):
    """Variants of the posts ``actor`` may see (one filter, no subquery)."""
    # Through the organisation's channels, so the database reads a date range
    # per channel (index variant_channel_time) instead of every post.
    qs = Variant.objects.filter(
        channel_id__in=Channel.objects.filter(
            organisation_id=actor.organisation_id
        ).values("pk")
    )
    if not actor.has_perm("posts.view_all"):
        qs = qs.filter(
            Q(post__owner_administration_id=actor.administration_id)
            | Q(post__created_by_id=actor.user_id)
        )
    return qs


def _narrowed(qs, filters: CalendarFilter, *, post: str = "",
              channel: str = "channel_id"):
    """``qs`` narrowed by the filters that are set (all but the purpose);
    ``post`` is the path from ``qs``'s rows to their post (``"post__"`` for
    variants) and ``channel`` the lookup of the channel."""
    lookups = {
        channel: filters.channel,
        f"{post}owner_administration_id": filters.administration,
        f"{post}category": filters.category,
        f"{post}campaign_id": filters.campaign,
        f"{post}status": filters.status,
    }
    return qs.filter(**{name: value for name, value in lookups.items() if value})


def _filtered(qs, filters: CalendarFilter):
    qs = _narrowed(qs, filters, post="post__")
    if not filters.status:
        qs = qs.exclude(
            post__status__in=[
                PostStatus.CANCELLED,
                PostStatus.DECLINED,
                PostStatus.PROPOSAL,
                PostStatus.CHANGES_REQUESTED,
            ]
        )
    return qs


def _utc_values(qs, *fields):
    """``values_list`` with ``planned_at`` as an aware UTC datetime.

    On SQLite the column is read as text and parsed with ``fromisoformat``:
    Django's per-row datetime converter is the largest cost of a full month.
    """
    if connection.vendor != "sqlite":
        return list(qs.values_list(*fields))
    index = fields.index("planned_at")
    names = [("planned_text" if f == "planned_at" else f) for f in fields]
    rows = qs.annotate(planned_text=Cast("planned_at", CharField())).values_list(*names)
    out = []
    for row in rows:
        row = list(row)
        row[index] = datetime.fromisoformat(row[index]).replace(tzinfo=UTC)
        out.append(row)
    return out


ROW_FIELDS = (
    "post_id",
    "post__title",
    "post__status",
    "planned_at",
    "post__owner_administration__code",
    "channel__network",
    "channel_id",
    "publication_status",
)


def _rows(actor, start: datetime, end: datetime, filters: CalendarFilter):
    qs = _filtered(
        visible_variants(actor).filter(planned_at__gte=start, planned_at__lt=end),
        filters,
    )
    if filters.purpose:
        rows = _utc_values(
            qs.order_by("planned_at", "post_id"), *ROW_FIELDS, "post__purposes"
        )
        return [r for r in rows if filters.purpose in (r[8] or [])]
    return _utc_values(qs.order_by("planned_at", "post_id"), *ROW_FIELDS)


def _entries_by_day(rows, can_move: bool, limit: int | None = None):
    """``({day: [Entry]}, {day: how many more})``; at most ``limit`` a day."""
    labels = {k: str(v) for k, v in PostStatus.choices}
    detail = reverse("planning:post_detail", args=[0]).replace("/0/", "/{}/")
    move = reverse("planning:post_reschedule", args=[0]).replace("/0/", "/{}/")
    movable = {
        PostStatus.DRAFT,
        PostStatus.IN_REVIEW,
        PostStatus.APPROVED,
        PostStatus.SCHEDULED,
    }
    by_post: dict[int, Entry] = {}
    days: dict[date, list[Entry]] = defaultdict(list)
    hidden: dict[date, set] = defaultdict(set)
    hidden_ids: set[int] = set()
    for post_id, title, status, planned_at, admin, network, *_rest in rows:
        entry = by_post.get(post_id)
        if entry is None:
            if post_id in hidden_ids:
                continue
            local = planned_at.astimezone(COPENHAGEN)
            day = local.date()
            if limit is not None and len(days[day]) >= limit:
                hidden[day].add(post_id)
                hidden_ids.add(post_id)
                continue
            entry = Entry(
                post_id,
                title,
                status,
                labels.get(status, status),
                local,
                admin,
                draggable=can_move and status in movable,
                url=detail.format(post_id),
                move_url=move.format(post_id),
                clock=f"{local:%H:%M}",
            )
            by_post[post_id] = entry
            days[day].append(entry)
        short = NETWORK_SHORT.get(network, network)
        if short not in entry.networks:
            entry.networks.append(short)
    return days, {day: len(ids) for day, ids in hidden.items()}


def cadence_channels(actor, filters: CalendarFilter) -> list[Channel]:
    qs = channel_policy.visible(actor).exclude(status=ChannelStatus.DISABLED)
    if filters.channel:
        qs = qs.filter(pk=filters.channel)
    return [c for c in qs if getattr(c, "strategy", None) and c.strategy.cadence_max]


def _cadence_counts(actor, start, end, channel_ids, filters, rows):
    """``{(channel id, local day): Counter(outcome)}``: what went out, what is
    still planned and what did not go out, apart. Reuses the calendar's rows
    when the filters do not narrow them beyond a channel."""
    per_day: dict = defaultdict(Counter)
    narrowed = any(
        [
            filters.administration,
            filters.category,
            filters.purpose,
            filters.campaign,
            filters.status,
        ]
    )
    if narrowed:
        qs = visible_variants(actor).filter(
            planned_at__gte=start,
            planned_at__lt=end,
            channel_id__in=channel_ids,
            post__status__in=list(PLANNED_STATES),
        )
        rows = [
            (None, None, status, planned_at, None, None, channel_id, publication)
            for channel_id, status, publication, planned_at in _utc_values(
                qs, "channel_id", "post__status", "publication_status", "planned_at"
            )
        ]
    wanted = set(channel_ids)
    for row in rows:
        status, planned_at, channel_id, publication = row[2], row[3], row[6], row[7]
        if channel_id not in wanted:
            continue
        outcome = variant_outcome(status, publication)
        if outcome is not None:
            per_day[(channel_id, planned_at.astimezone(COPENHAGEN).date())][
                outcome
            ] += 1
    return per_day


CADENCE_STATES = {
    "gap": gettext_lazy("for få"),
    "ok": gettext_lazy("inden for målet"),
    "over": gettext_lazy("for mange"),
}


def _judge(count: int, low: int, high: int) -> str:
    if count < low:
        return "gap"
    if count > high:
        return "over"
    return "ok"


def _outcome_words(tally: Counter) -> str:
    """ "2 udgivet, 1 planlagt, 1 ikke udgivet" (only the non-zero parts)."""
    parts = []
    if tally[Outcome.PUBLISHED]:
        parts.append(
            ngettext("%(n)d udgivet", "%(n)d udgivet", tally[Outcome.PUBLISHED])
            % {"n": tally[Outcome.PUBLISHED]}
        )
    if tally[Outcome.PLANNED]:
        parts.append(
            ngettext("%(n)d planlagt", "%(n)d planlagt", tally[Outcome.PLANNED])
            % {"n": tally[Outcome.PLANNED]}
        )
    if tally[Outcome.NOT_PUBLISHED]:
        parts.append(
            ngettext(
                "%(n)d ikke udgivet",
                "%(n)d ikke udgivet",
                tally[Outcome.NOT_PUBLISHED],
            )
            % {"n": tally[Outcome.NOT_PUBLISHED]}
        )
    return ", ".join(parts)


def _cadence_cell(channel, tally: Counter, label_prefix=""):
    """One chip: published and still planned count against the target; what
    did not go out is named apart and never counts."""
    s = channel.strategy
    count = tally[Outcome.PUBLISHED] + tally[Outcome.PLANNED]
    span = (
        f"{s.cadence_min}–{s.cadence_max}"
        if s.cadence_min != s.cadence_max
        else str(s.cadence_max)
    )
    name = channel.get_network_display().split(" ")[0]
    short = NETWORK_SHORT.get(channel.network, channel.network)
    state = _judge(count, s.cadence_min, s.cadence_max)
    target = _("%(count)s af %(span)s") % {"count": count, "span": span}
    # The state in words as well as in colour and symbol (WCAG 1.4.1).
    label = f"{name} {label_prefix}{target}: {CADENCE_STATES[state]}"
    words = _outcome_words(tally)
    if words:
        label = f"{label} ({words})"
    return {
        "html": format_html(
            '<span class="cad {}" title="{}"><span aria-hidden="true">{} {}</span>'
            '<span class="visually-hidden">{}</span></span>',
            state,
            label,
            short,
            count,
            label,
        ),
        "channel": channel,
        "short": short,
        "label": label,
        "target": target,
        "count": count,
        "published": tally[Outcome.PUBLISHED],
        "planned": tally[Outcome.PLANNED],
        "not_published": tally[Outcome.NOT_PUBLISHED],
        "state": state,
    }


def week_cadence(channels, counts, monday: date) -> list[dict]:
    out = []
    week_no = monday.isocalendar()[1]
    for channel in channels:
        if channel.strategy.cadence_period != CadencePeriod.WEEK:
            continue
        tally: Counter = Counter()
        for i in range(7):
            tally.update(counts.get((channel.pk, monday + timedelta(days=i)), {}))
        prefix = _("uge %(week)s: ") % {"week": week_no}
        out.append(_cadence_cell(channel, tally, prefix))
    return out


def day_cadence(channels, counts, day: date) -> list[dict]:
    return [
        _cadence_cell(
            channel,
            counts.get((channel.pk, day), Counter()),
            f"{WEEKDAYS[day.weekday()]} ",
        )
        for channel in channels
        if channel.strategy.cadence_period == CadencePeriod.DAY
    ]


def month_calendar(
    actor, year: int, month: int, filters: CalendarFilter, today: date
) -> dict:
    first = date(year, month, 1)
    start_day = first - timedelta(days=first.weekday())
    next_month = date(year + month // 12, month % 12 + 1, 1)
    last = next_month - timedelta(days=1)
    end_day = last + timedelta(days=6 - last.weekday())
    start, end = local_day_bounds(start_day, end_day)
    can_move = post_policy.can(actor, "reschedule")
    rows = _rows(actor, start, end, filters)
    by_day, more = _entries_by_day(rows, can_move, DAY_LIMIT)
    channels = cadence_channels(actor, filters)
    counts = _cadence_counts(actor, start, end, [c.pk for c in channels], filters, rows)
    extra = overlays.by_day(actor, start, end)
    weeks = []
    day = start_day
    while day <= end_day:
        days = []
        for i in range(7):
            current = day + timedelta(days=i)
            entries = by_day.get(current, [])
            days.append(
                Day(
                    current,
                    current.month == month,
                    current == today,
                    entries,
                    more.get(current, 0),
                    day_cadence(channels, counts, current),
                    extra.get(current, []),
                )
            )
        weeks.append(
            {
                "number": day.isocalendar()[1],
                "days": days,
                "cadence": week_cadence(channels, counts, day),
            }
        )
        day += timedelta(days=7)
    return {
        "weeks": weeks,
        "first": first,
        "title": capfirst(when(first, "month")),
        "previous": first - timedelta(days=1),
        "next": next_month,
    }


def week_calendar(actor, monday: date, filters: CalendarFilter, today: date) -> dict:
    sunday = monday + timedelta(days=6)
    start, end = local_day_bounds(monday, sunday)
    can_move = post_policy.can(actor, "reschedule")
    rows = _rows(actor, start, end, filters)
    by_day, _more = _entries_by_day(rows, can_move)
    channels = cadence_channels(actor, filters)
    counts = _cadence_counts(actor, start, end, [c.pk for c in channels], filters, rows)
    extra = overlays.by_day(actor, start, end)
    days = [
        Day(
            monday + timedelta(days=i),
            True,
            monday + timedelta(days=i) == today,
            by_day.get(monday + timedelta(days=i), []),
            overlays=extra.get(monday + timedelta(days=i), []),
        )
        for i in range(7)
    ]
    daily = [c for c in channels if c.strategy.cadence_period == CadencePeriod.DAY]
    cadence_rows = [
        {"channel": c, "cells": [day_cadence([c], counts, d.date)[0] for d in days]}
        for c in daily
    ]
    iso = monday.isocalendar()
    return {
        "days": days,
        "title": _("Uge %(week)s, %(year)s") % {"week": iso[1], "year": iso[0]},
        "cadence_rows": cadence_rows,
        "week_cadence": week_cadence(channels, counts, monday),
        "previous": monday - timedelta(days=7),
        "next": monday + timedelta(days=7),
        "monday": monday,
    }


def post_list(actor, filters: CalendarFilter, start: datetime | None):
    posts = post_policy.visible(actor)
    if start is not None:
        posts = posts.filter(planned_at__gte=start)
    posts = _narrowed(posts, filters, channel="variants__channel_id")
    if filters.purpose:
        posts = posts.filter(purposes__icontains=f'"{filters.purpose}"')
    return (
        posts.distinct()
        .order_by("planned_at", "pk")
        .prefetch_related("variants__channel")
    )


def proposal_queue(actor):
    return (
        post_policy.visible(actor)
        .filter(status__in=[PostStatus.PROPOSAL, PostStatus.CHANGES_REQUESTED])
        .select_related("created_by")
        .prefetch_related("wished_channels")
    )


def my_proposals(actor):
    return (
        post_policy.visible(actor)
        .filter(created_by_id=actor.user_id)
        .exclude(status__in=[PostStatus.DRAFT])
        .filter(
            Q(
                status__in=[
                    PostStatus.PROPOSAL,
                    PostStatus.CHANGES_REQUESTED,
                    PostStatus.DECLINED,
                ]
            )
            | Q(proposal_reason__gt="")
        )
    )


def awaiting_approval(actor):
    return post_policy.visible(actor).filter(status=PostStatus.IN_REVIEW)


def filter_choices(actor) -> dict:
    channels = list(channel_policy.visible(actor))
    categories = {c for ch in channels for c in ch.strategy.categories}
    # Categories in use stay filterable after a strategy drops them.
    categories |= set(
        post_policy.visible(actor)
        .exclude(category="")
        .values_list("category", flat=True)
        .distinct()
    )
    categories = sorted(categories)
    from kanal.organisations.models import Administration

    from .models import Campaign

    return {
        "channels": channels,
        "administrations": Administration.objects.filter(
            organisation_id=actor.organisation_id
        ),
        "categories": categories,
        "purposes": Purpose.choices,
        "campaigns": Campaign.objects.filter(organisation_id=actor.organisation_id),
        "statuses": PostStatus.choices,
    }


# ---------------------------------------------------------------------------
# The strategy report


def strategy_report(actor, first_day: date, last_day: date) -> dict:
    """The period against the strategy, per channel and administration.

    Output counts only what was published; what is still planned and what did
    not go out (failed, missed, or the unpublished part of a partially
    published post) are counted apart. The cadence is judged on published
    plus still planned: what did not go out never fills a target.
    """
    start, end = local_day_bounds(first_day, last_day)
    days = (last_day - first_day).days + 1
    weeks = days / 7
    # Counts only, no content: anyone with reports.view sees the whole plan.
    variants = (
        Variant.objects.filter(channel__organisation_id=actor.organisation_id)
        if actor.has_perm("reports.view")
        else visible_variants(actor)
    )
    rows = list(
        variants.filter(
            planned_at__gte=start,
            planned_at__lt=end,
            post__status__in=list(PLANNED_STATES),
        ).values_list(
            "channel_id",
            "post__status",
            "publication_status",
            "post__category",
            "post__purposes",
            "post__owner_administration__code",
            "post_id",
        )
    )
    channels = [c for c in channel_policy.visible(actor)]
    per_channel = {
        c.pk: {
            "channel": c,
            "published": 0,
            "planned": 0,
            "not_published": 0,
            "categories": Counter(),
            "purposes": Counter(),
        }
        for c in channels
    }
    administrations: dict[str, dict] = defaultdict(
        lambda: {"posts": set(), "published": set(), "not_published": set()}
    )
    purposes_total: Counter = Counter()
    categories_total: Counter = Counter()
    post_outcomes: dict[int, set] = defaultdict(set)
    counted_posts = set()
    purpose_labels = dict(Purpose.choices)
    no_category = _("(ingen)")
    for channel_id, status, publication, category, purposes, admin, post_id in rows:
        item = per_channel.get(channel_id)
        outcome = variant_outcome(status, publication)
        if item is None or outcome is None:
            continue
        item[outcome] += 1
        post_outcomes[post_id].add(outcome)
        administrations[admin]["posts"].add(post_id)
        if outcome == Outcome.PUBLISHED:
            administrations[admin]["published"].add(post_id)
        elif outcome == Outcome.NOT_PUBLISHED:
            administrations[admin]["not_published"].add(post_id)
        if outcome == Outcome.NOT_PUBLISHED:
            continue
        # Categories and purposes describe the output: published or planned.
        item["categories"][category or no_category] += 1
        for p in purposes or []:
            item["purposes"][str(purpose_labels.get(p, p))] += 1
        if post_id not in counted_posts:
            counted_posts.add(post_id)
            categories_total[category or no_category] += 1
            for p in purposes or []:
                purposes_total[str(purpose_labels.get(p, p))] += 1
    # A post as a whole: published when any variant went out, else planned
    # while any is on its way, else not published. These three add up.
    overall: Counter = Counter(
        next(
            o
            for o in (Outcome.PUBLISHED, Outcome.PLANNED, Outcome.NOT_PUBLISHED)
            if o in outcomes
        )
        for outcomes in post_outcomes.values()
    )
    for item in per_channel.values():
        strategy = getattr(item["channel"], "strategy", None)
        output = item["published"] + item["planned"]
        item["output"] = output
        if strategy and strategy.cadence_max:
            factor = days if strategy.cadence_period == CadencePeriod.DAY else weeks
            low, high = (
                round(strategy.cadence_min * factor),
                round(strategy.cadence_max * factor),
            )
            item["target"] = f"{low}–{high}" if low != high else str(high)
            item["state"] = _judge(output, low, high)
            item["cadence"] = strategy.cadence_label
        else:
            item["target"], item["state"], item["cadence"] = "–", "", ""
        item["categories"] = item["categories"].most_common()
        item["purposes"] = item["purposes"].most_common()
    return {
        "channels": list(per_channel.values()),
        "administrations": sorted(
            (
                {
                    "code": k,
                    "posts": len(v["posts"]),
                    "published": len(v["published"]),
                    "not_published": len(v["not_published"]),
                }
                for k, v in administrations.items()
            ),
            key=lambda r: (-r["posts"], r["code"]),
        ),
        "categories": categories_total.most_common(),
        "purposes": purposes_total.most_common(),
        "total_posts": len(post_outcomes),
        "published_posts": overall[Outcome.PUBLISHED],
        "planned_posts": overall[Outcome.PLANNED],
        "not_published_posts": overall[Outcome.NOT_PUBLISHED],
        "days": days,
    }


def feed_posts(membership, now: datetime):
    return (
        post_policy.visible(membership)
        .filter(
            planned_at__gte=now - timedelta(days=60),
            planned_at__lte=now + timedelta(days=366),
            status__in=list(PLANNED_STATES),
        )
        .prefetch_related("variants__channel")
        .order_by("planned_at")
    )


MEDIA_CHOICES = 24


def media_choices(actor, post, variants):
    """What the editor offers per variant: the media already chosen, the
    proposal's images and the newest uploads (not the whole library)."""
    from .policies import media_policy

    visible = media_policy.visible(actor)
    ids = set(
        visible.order_by("-created_at").values_list("pk", flat=True)[:MEDIA_CHOICES]
    )
    ids |= set(post.proposal_media.values_list("pk", flat=True))
    for variant in variants:
        ids |= {m.pk for m in variant.media.all()}
    return visible.filter(pk__in=ids).order_by("-created_at")


MEDIA_ATTENTION = ("alt", "samtykke", "rettigheder")


def search_media(actor, *, query="", tag="", kind="", attention="", today=None):
    """The library as ``actor`` sees it, searched: every word of ``query`` in
    the file name, alt text, credit or a tag; ``tag`` exactly; ``kind``
    (image/video); ``attention``: images without alt text ("alt"), people
    without consent ("samtykke"), expired rights ("rettigheder")."""
    from .models import MediaKind
    from .policies import media_policy

    qs = media_policy.visible(actor)
    for word in query.split()[:8]:
        qs = qs.filter(
            Q(original_name__icontains=word)
            | Q(alt_text__icontains=word)
            | Q(credit__icontains=word)
            | Q(tags__name__icontains=word)
        )
    if tag:
        qs = qs.filter(tags__name=tag)
    if kind in MediaKind.values:
        qs = qs.filter(kind=kind)
    if attention == "alt":
        qs = qs.filter(kind=MediaKind.IMAGE, alt_text="")
    elif attention == "samtykke":
        qs = qs.filter(
            shows_identifiable_people=True, identifiable_people_consent=False
        )
    elif attention == "rettigheder" and today is not None:
        qs = qs.filter(rights_expire_on__lt=today)
    return qs.distinct().prefetch_related("tags").order_by("-created_at", "-pk")


def media_tags_in_use(actor) -> list[tuple[str, int]]:
    """``[(tag, how many of the visible media carry it)]``, most used first."""
    from django.db.models import Count

    from .models import MediaTag
    from .policies import media_policy

    visible = media_policy.visible(actor).values("pk")
    return list(
        MediaTag.objects.filter(
            organisation_id=actor.organisation_id, media__in=visible
        )
        .values_list("name")
        .annotate(n=Count("media", distinct=True))
        .order_by("-n", "name")
    )


def all_posts_for(actor):
    return Post.objects.none() if actor is None else post_policy.visible(actor)
