"""What Kanal suggests for an item on a channel: the text in the channel's
form and within its network's limits, and a time where the channel's cadence
has room.

The texts are written for the city's Danish-speaking audience (they become
post drafts, not interface text), so they are not translated.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from kanal.channels.adapters import adapter_for
from kanal.channels.models import CadencePeriod
from kanal.planning.models import PLANNED_STATES, Variant

from .models import ChannelTone, SuggestionKind, Tone
from .parsers import LOCAL

logger = logging.getLogger("kanal.sources")

WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)
#: The networks whose posts are long, told in full some days before.
LONG_FORM = frozenset({"facebook", "linkedin"})
#: Instagram: a picture post with the desk's hashtag, two days before.
PICTURE = frozenset({"instagram"})
DAYS_BEFORE = {"facebook": 3, "linkedin": 3, "instagram": 2}
CITY_HASHTAG = "#voreskbh"
#: Hours of the day a suggestion may take, in the order tried.
SLOTS = (time(10, 0), time(12, 0), time(14, 0), time(16, 0), time(19, 0), time(9, 0))
SHORT_SLOTS = (time(8, 0), time(9, 0), time(7, 30), time(11, 0), time(13, 0))


@dataclass(frozen=True)
class Draft:
    text: str
    link: str
    hashtags: tuple[str, ...]
    planned_at: datetime
    kind: str = SuggestionKind.POST


def when_text(item) -> str:
    """``lørdag 14. marts kl. 10.00–12.00`` in Copenhagen time."""
    start = item.starts_at.astimezone(LOCAL)
    day = f"{WEEKDAYS[start.weekday()]} {start.day}. {MONTHS[start.month - 1]}"
    if item.all_day:
        return day
    text = f"{day} kl. {start:%H.%M}"
    if item.ends_at and item.ends_at > item.starts_at:
        end = item.ends_at.astimezone(LOCAL)
        if end.date() == start.date():
            text += f"–{end:%H.%M}"
    return text


class Limits:
    """How long a channel's posts may be, counted the network's way, and the
    tone its suggestions are written in (``ChannelTone``; friendly without)."""

    def __init__(self, channel) -> None:
        self.adapter = None
        self.max_length = 500
        self.tone = (
            ChannelTone.objects.filter(channel=channel)
            .values_list("tone", flat=True)
            .first()
            or Tone.FRIENDLY
        )
        try:
            self.adapter = adapter_for(channel, credentials=False)
            self.max_length = self.adapter.capabilities().max_text_length
        except (ImportError, AttributeError, KeyError, NotImplementedError):
            logger.info("sources: no adapter limits for %s", channel.network)

    def count(self, text: str) -> int:
        if self.adapter is not None:
            try:
                return self.adapter.count_text(text)
            except NotImplementedError:
                pass
        return len(text)

    def supports(self, operation: str) -> bool:
        if self.adapter is None:
            return False
        try:
            return operation in self.adapter.capabilities().supports
        except NotImplementedError:
            return False

    def fits(self, text: str, hashtags, link: str) -> bool:
        extra = "".join(f" {t}" for t in hashtags) + (f"\n\n{link}" if link else "")
        # A margin for link tracking parameters and the network's own rounding.
        return self.count(text + extra) <= self.max_length - 10


def fit(head: str, body: str, limits: Limits, hashtags, link: str) -> str:
    """``head`` and as much of ``body`` as the network allows (cut at a word,
    with an ellipsis); ``head`` alone cut the same way if it must be."""
    full = f"{head}\n\n{body}".strip() if body else head
    if limits.fits(full, hashtags, link):
        return full
    words = body.split(" ")
    low, high = 0, len(words)
    while low < high:
        mid = (low + high + 1) // 2
        candidate = f"{head}\n\n{' '.join(words[:mid])}…"
        if limits.fits(candidate, hashtags, link):
            low = mid
        else:
            high = mid - 1
    if low:
        return f"{head}\n\n{' '.join(words[:low])}…"
    words = head.split(" ")
    while len(words) > 1 and not limits.fits(" ".join(words) + "…", hashtags, link):
        words.pop()
    return " ".join(words) + "…"


class Planner:
    """Places suggestions where each channel's cadence has room, counting the
    posts already planned and the suggestions already placed."""

    def __init__(self, channels, start: datetime, end: datetime, existing=()) -> None:
        self.channels = {c.pk: c for c in channels}
        self.per_day: Counter = Counter()
        self.per_week: Counter = Counter()
        self.taken: set[tuple[int, datetime]] = set()
        #: (channel, day, slots) whose every slot is taken.
        self.full: set[tuple] = set()
        planned = Variant.objects.filter(
            channel_id__in=self.channels,
            planned_at__gte=start - timedelta(days=7),
            planned_at__lt=end + timedelta(days=7),
            post__status__in=PLANNED_STATES,
        ).values_list("channel_id", "planned_at")
        for channel_id, moment in list(planned) + list(existing):
            self._take(channel_id, moment)

    def _take(self, channel_id: int, moment: datetime) -> None:
        local = moment.astimezone(LOCAL)
        self.per_day[(channel_id, local.date())] += 1
        self.per_week[(channel_id, local.isocalendar()[:2])] += 1
        self.taken.add((channel_id, moment))

    def forget(self, channel_id: int, moment: datetime) -> None:
        local = moment.astimezone(LOCAL)
        self.per_day[(channel_id, local.date())] -= 1
        self.per_week[(channel_id, local.isocalendar()[:2])] -= 1
        self.taken.discard((channel_id, moment))
        self.full = {f for f in self.full if f[:2] != (channel_id, local.date())}

    def has_room(self, channel, day: date) -> bool:
        strategy = getattr(channel, "strategy", None)
        if strategy is None or not strategy.cadence_max:
            return True
        if strategy.cadence_period == CadencePeriod.WEEK:
            return self.per_week[(channel.pk, day.isocalendar()[:2])] < (
                strategy.cadence_max
            )
        return self.per_day[(channel.pk, day)] < strategy.cadence_max

    def place(
        self, channel, days: list[date], slots, *, earliest: datetime, latest: datetime
    ) -> datetime | None:
        """The first free slot on the first day in ``days`` with room, between
        ``earliest`` and ``latest``; if no day has room, the first free slot
        on the first possible day (the desk decides)."""
        fallback = None
        for day in days:
            if (channel.pk, day, slots) in self.full:
                continue
            free = False
            for slot in slots:
                moment = datetime.combine(day, slot, tzinfo=LOCAL)
                if not earliest <= moment <= latest:
                    continue
                if (channel.pk, moment) in self.taken:
                    continue
                free = True
                if fallback is None:
                    fallback = moment
                if self.has_room(channel, day):
                    self._take(channel.pk, moment)
                    return moment
                break
            if not free and all(
                (channel.pk, datetime.combine(day, slot, tzinfo=LOCAL)) in self.taken
                for slot in slots
            ):
                self.full.add((channel.pk, day, slots))
        if fallback is not None:
            self._take(channel.pk, fallback)
        return fallback


def draft_for(item, channel, planner: Planner, *, now: datetime, limits=None):
    """The suggestion for ``item`` on ``channel``, or None when there is no
    sensible time left for it (the event is too close or over)."""
    limits = limits or Limits(channel)
    earliest = now + timedelta(hours=1)
    if item.starts_at is None:
        moment = _place_news(channel, planner, earliest)
    elif item.starts_at <= earliest:
        return None
    else:
        moment = _place_event(item, channel, planner, earliest)
    if moment is None:
        return None
    return words_for(item, channel, limits, moment)


def _place_event(item, channel, planner, earliest):
    latest = item.starts_at - timedelta(hours=1)
    event_day = item.starts_at.astimezone(LOCAL).date()
    network = channel.network
    if network in LONG_FORM or network in PICTURE:
        before = DAYS_BEFORE.get(network, 3)
        # The preferred day first, then closer to the event, then earlier.
        days = [event_day - timedelta(days=d) for d in (before, before - 1, before + 1)]
        days += [event_day - timedelta(days=d) for d in range(before - 2, -1, -1)]
        return planner.place(channel, days, SLOTS, earliest=earliest, latest=latest)
    days = [event_day, event_day - timedelta(days=1)]
    return planner.place(channel, days, SHORT_SLOTS, earliest=earliest, latest=latest)


def _place_news(channel, planner, earliest):
    start_day = earliest.astimezone(LOCAL).date()
    days = [start_day + timedelta(days=d) for d in range(0, 4)]
    slots = SLOTS if channel.network in LONG_FORM | PICTURE else SHORT_SLOTS
    return planner.place(
        channel, days, slots, earliest=earliest, latest=earliest + timedelta(days=5)
    )


def words_for(item, channel, limits, moment: datetime) -> Draft:
    """The suggestion's text (in the channel's tone), link, hashtags and kind
    for a post at ``moment``."""
    hashtags = (CITY_HASHTAG,) if channel.network in PICTURE else ()
    if item.starts_at is None:
        return _news(item, channel, limits, hashtags, moment)
    where = f", {item.location}" if item.location else ""
    when = when_text(item)
    if channel.network in LONG_FORM or channel.network in PICTURE:
        if limits.tone == Tone.FORMAL:
            head = f"{item.title}\n\nTid: {when}"
            head += f"\nSted: {item.location}" if item.location else ""
            text = fit(head, item.summary, limits, hashtags, item.link)
        elif limits.tone == Tone.BRIEF:
            text = fit(f"{item.title}: {when}{where}.", "", limits, hashtags, item.link)
        else:
            head = f"{item.title}\n\n{when.capitalize()}{where}."
            text = fit(head, item.summary, limits, hashtags, item.link)
    else:
        same_day = (
            moment.astimezone(LOCAL).date() == item.starts_at.astimezone(LOCAL).date()
        )
        # A short post on the day; the day before when the day had no room.
        day = "i dag" if same_day else "i morgen"
        at = "hele dagen" if item.all_day else (
            f"kl. {item.starts_at.astimezone(LOCAL):%H.%M}"
        )
        if limits.tone == Tone.FORMAL:
            head = f"{item.title} finder sted {day} {at}{where}."
        elif limits.tone == Tone.BRIEF:
            head = f"{item.title} {day} {at}."
        else:
            head = f"{day.capitalize()} {at}: {item.title}{where}."
        text = fit(head, "", limits, hashtags, item.link)
    return Draft(text=text, link=item.link, hashtags=hashtags, planned_at=moment)


def _news(item, channel, limits, hashtags, moment) -> Draft:
    if item.remote_id:
        return _partner(item, channel, limits, hashtags, moment)
    if limits.tone == Tone.BRIEF:
        text = fit(item.title, "", limits, hashtags, item.link)
    elif limits.tone == Tone.FORMAL:
        text = fit(f"Nyt fra kommunen: {item.title}", item.summary, limits, hashtags,
                   item.link)
    else:
        text = fit(item.title, item.summary, limits, hashtags, item.link)
    return Draft(text=text, link=item.link, hashtags=hashtags, planned_at=moment)


def _partner(item, channel, limits, hashtags, moment) -> Draft:
    """A partner's post: shared as it is where the channel is on the same
    network and the network reposts; elsewhere quoted with credit and a
    link to the original."""
    author = item.author_name or item.source.name
    reader = item.source.partner_channel
    if (
        reader is not None
        and channel.network == reader.network
        and limits.supports("repost")
    ):
        return Draft(
            text=f"Del {author}s opslag: {item.title}",
            link=item.link,
            hashtags=(),
            planned_at=moment,
            kind=SuggestionKind.REPOST,
        )
    if limits.tone == Tone.BRIEF:
        text = fit(f"Via {author}: {item.title}", "", limits, hashtags, item.link)
    elif limits.tone == Tone.FORMAL:
        text = fit(f"{author} oplyser:", item.summary, limits, hashtags, item.link)
    else:
        text = fit(f"{author} skriver:", item.summary, limits, hashtags, item.link)
    return Draft(text=text, link=item.link, hashtags=hashtags, planned_at=moment)
