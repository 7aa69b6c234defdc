"""Crisis communication: what a crisis message looks like on each network, the
desk's prepared templates, the desk's hours and the times proposed for paused
posts when a crisis ends, and taking crisis messages off the top of profiles.

A crisis message is never shortened by Kanal. Each network gets the message
(or the crisis lead's own version for that network), counted the network's own
way by its adapter (X weighted, Bluesky graphemes, Threads with emoji as
bytes …); while one version does not fit, or a placeholder such as ``[STED]``
is left, nothing is sent.

The actions that send, end a crisis and unpin live in ``actions.py``; this
module holds what they and the views share, and the template actions.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kanal.channels.adapters import adapter_for
from kanal.channels.networks.base import OutgoingPost
from kanal.channels.wording import COUNTING, problem_text
from kanal.core import audit
from kanal.notifications.actions import notify
from kanal.notifications.audience import crisis_leads

from . import conf
from .models import (
    CLAIMABLE,
    CrisisEvent,
    CrisisTemplate,
    CrisisUnpin,
    Publication,
    PublicationStatus,
)
from .policies import crisis_template_policy

logger = logging.getLogger("kanal.publishing.crisis")

# ---------------------------------------------------------------------------
# Placeholders

#: ``[STED]``, ``[TIDSPUNKT]``, ``[VANDSTAND I CM]``: capitals in square
#: brackets, at least one letter. "[1]" or "[sic]" are ordinary text.
PLACEHOLDER = re.compile(r"\[(?=[^\]]*[A-ZÆØÅÄÖÜ])[A-ZÆØÅÄÖÜ0-9 .,:/+\-]{1,40}\]")


def placeholders(*texts: str) -> list[str]:
    """The placeholders left in ``texts``, each once, in order."""
    found: list[str] = []
    for text in texts:
        for match in PLACEHOLDER.findall(text or ""):
            if match not in found:
                found.append(match)
    return found


# ---------------------------------------------------------------------------
# One message, each network's version, counted the network's way

#: Networks that put a text-only post's link into the text itself (and count
#: it there); the others show it as a link card beside the text.
LINK_IN_TEXT = frozenset({"x", "mastodon", "instagram"})


def sent_text(network: str, text: str, link: str) -> str:
    """The text of a text-only post as ``network`` receives it."""
    text = (text or "").strip()
    if link and network in LINK_IN_TEXT and link not in text:
        return f"{text}\n\n{link}" if text else link
    return text


def _rules_adapter(channel):
    """The channel's adapter for counting and validating (no credentials: the
    rules are pure)."""
    return adapter_for(channel, credentials=False)


@dataclass
class ChannelCount:
    """One channel's verdict on its network's version."""

    channel: object
    chosen: bool
    length: int = 0
    limit: int | None = None
    counting: str = ""
    problems: list[str] = field(default_factory=list)
    #: Why this channel cannot take a text-only message at all.
    skipped: str = ""
    can_pin: bool = False

    @property
    def over(self) -> int:
        return max(0, self.length - self.limit) if self.limit else 0

    @property
    def fits(self) -> bool:
        return not self.problems and not self.skipped

    @property
    def state(self) -> str:
        if not self.chosen:
            return "unchosen"
        if self.skipped:
            return "skipped"
        return "ok" if self.fits else "over"


@dataclass
class NetworkVersion:
    """What one network's channels receive."""

    network: str
    label: str
    text: str
    own: str
    link: str
    channels: list[ChannelCount]
    placeholders: list[str]
    #: Templates keep their placeholders; a message to send may not.
    allow_placeholders: bool = False
    #: The bound form field for the lead's own version (set by the view).
    field: object = None

    @property
    def sent_text(self) -> str:
        return sent_text(self.network, self.text, self.link)

    @property
    def link_as_card(self) -> bool:
        return bool(self.link) and self.network not in LINK_IN_TEXT

    @property
    def chosen(self) -> list[ChannelCount]:
        return [c for c in self.channels if c.chosen]

    @property
    def sendable(self) -> list[ChannelCount]:
        return [c for c in self.chosen if not c.skipped]

    @property
    def skipped(self) -> bool:
        """No channel of this network can take a text-only message."""
        return all(c.skipped for c in self.channels)

    @property
    def too_long(self) -> bool:
        """A chosen channel refuses this version (length or other rules)."""
        return any(not c.fits for c in self.sendable)

    @property
    def blocking(self) -> bool:
        return self.too_long or (
            bool(self.sendable)
            and bool(self.placeholders)
            and not self.allow_placeholders
        )

    @property
    def worst(self) -> ChannelCount | None:
        counts = self.sendable or self.chosen or self.channels
        return max(counts, key=lambda c: (c.over, c.length)) if counts else None

    @property
    def state(self) -> str:
        if not self.chosen:
            return "unchosen"
        if not self.sendable:
            return "skipped"
        return "over" if self.blocking else "ok"


@dataclass
class Composition:
    """A crisis message (or all-clear) and every network's version of it."""

    text: str
    link: str
    networks: list[NetworkVersion]

    @property
    def blocking(self) -> list[NetworkVersion]:
        return [n for n in self.networks if n.blocking]

    @property
    def too_long(self) -> list[NetworkVersion]:
        return [n for n in self.networks if n.too_long]

    @property
    def chosen_channels(self) -> list[ChannelCount]:
        return [c for n in self.networks for c in n.chosen]

    @property
    def sendable(self) -> list[tuple[NetworkVersion, ChannelCount]]:
        return [(n, c) for n in self.networks for c in n.sendable]

    @property
    def placeholders(self) -> list[str]:
        return placeholders(*(n.text for n in self.networks if n.sendable))

    def for_audit(self) -> dict[str, str]:
        return {n.network: n.sent_text for n in self.networks if n.sendable}

    def refusal(self) -> str:
        """Why nothing was sent, and what to do now (Danish)."""
        parts = []
        for version in self.too_long:
            worst = version.worst
            if worst is not None and worst.over:
                parts.append(
                    _("%(network)s: %(length)d af højst %(limit)d %(counting)s")
                    % {
                        "network": version.label,
                        "length": worst.length,
                        "limit": worst.limit,
                        "counting": worst.counting,
                    }
                )
            else:
                parts.append(version.label)
        messages = []
        if parts:
            messages.append(
                _(
                    "Beskeden er ikke sendt, for den passer ikke til alle "
                    "netværk (%(which)s). Skriv en kort version til hvert af "
                    "dem herunder, eller forkort beskeden. Kanal forkorter "
                    "aldrig en krisebesked."
                )
                % {"which": "; ".join(parts)}
            )
        left = self.placeholders
        if left:
            messages.append(
                _("Udfyld pladsholderne, før beskeden sendes: %(names)s.")
                % {"names": ", ".join(left)}
            )
        return " ".join(messages)


def compose(
    channels: Iterable,
    *,
    chosen: Iterable[int] | None,
    text: str,
    link: str = "",
    own: Mapping[str, str] | None = None,
    allow_placeholders: bool = False,
) -> Composition:
    """Every network's version of ``text`` (or the lead's ``own`` version
    for that network), counted and validated by the network's adapter.

    ``channels`` are all channels that could be chosen (shown greyed when not
    chosen); ``chosen`` their ids, or None for all. Pure apart from reading.
    """
    text = (text or "").strip()
    link = (link or "").strip()
    own = {k: (v or "").strip() for k, v in (own or {}).items()}
    chosen_ids = None if chosen is None else set(chosen)
    by_network: dict[str, list] = {}
    for channel in channels:
        by_network.setdefault(channel.network, []).append(channel)
    networks = []
    for network in sorted(by_network, key=_network_order):
        members = by_network[network]
        version_text = own.get(network) or text
        counts = [
            _count(
                channel,
                version_text,
                link,
                chosen=chosen_ids is None or channel.pk in chosen_ids,
            )
            for channel in members
        ]
        networks.append(
            NetworkVersion(
                network=network,
                label=members[0].get_network_display(),
                text=version_text,
                own=own.get(network, ""),
                link=link,
                channels=counts,
                placeholders=placeholders(version_text),
                allow_placeholders=allow_placeholders,
            )
        )
    return Composition(text=text, link=link, networks=networks)


_ORDER = ["x", "bluesky", "threads", "mastodon", "facebook", "linkedin", "instagram"]


def _network_order(network: str):
    # Tightest limits first: the versions that need attention come first.
    return (_ORDER.index(network) if network in _ORDER else len(_ORDER), network)


def _count(channel, text: str, link: str, *, chosen: bool) -> ChannelCount:
    count = ChannelCount(channel=channel, chosen=chosen)
    counting = COUNTING.get(channel.network)
    try:
        adapter = _rules_adapter(channel)
        capabilities = adapter.capabilities()
    except (ImportError, KeyError, NotImplementedError):
        count.length = len(sent_text(channel.network, text, link))
        count.counting = str(counting or _("tegn"))
        return count
    count.limit = capabilities.max_text_length
    count.counting = str(counting or capabilities.text_counting)
    count.can_pin = "pin" in capabilities.supports
    try:
        count.length = adapter.count_text(sent_text(channel.network, text, link))
        problems = (
            adapter.validate(OutgoingPost(text=text, link=link))
            if (text or link) and not capabilities.requires_media else []
        )
    except Exception:
        # Never send what could not be checked; the lead can untick it.
        logger.exception("counting for channel %s failed", channel.pk)
        count.length = len(sent_text(channel.network, text, link))
        count.problems.append(_(
            "Kanal kunne ikke tjekke teksten for dette netværk, så den sendes "
            "ikke dér. Fjern fluebenet ved kanalen, og læg beskeden op i hånden."
        ))
        return count
    if capabilities.requires_media:
        count.skipped = _(
            "%(network)s tager ikke opslag uden billede, så beskeden sendes ikke "
            "dér. Læg den op i hånden, hvis den skal ud dér."
        ) % {"network": channel.get_network_display()}
        return count
    if not text and not link:
        return count  # nothing written yet: nothing to refuse
    for problem in problems:
        if problem.code == "text_too_long":
            # The adapter counted the same text the same way (a test holds
            # every network to it); the message is Kanal's own so it can say
            # what to do in the composer.
            count.problems.append(
                _(
                    "%(over)d for mange. Skriv en kort version til %(network)s, "
                    "eller forkort beskeden."
                )
                % {"over": count.over, "network": channel.get_network_display()}
            )
        else:
            count.problems.append(problem_text(problem, channel.network))
    if count.limit and count.length > count.limit and not count.problems:
        count.problems.append(
            _("%(over)d for mange. Skriv en kort version til %(network)s.")
            % {"over": count.over, "network": channel.get_network_display()}
        )
    return count


# ---------------------------------------------------------------------------
# The desk's hours and the times proposed after a crisis


def desk_hours() -> tuple[time, time]:
    """When the desk posts (Copenhagen time), from ``KANAL_DESK_HOURS``
    ("07:00-22:00")."""
    raw = str(getattr(settings, "KANAL_DESK_HOURS", "07:00-22:00"))
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", raw)
    if match:
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60:
            opens, closes = time(h1, m1), time(h2, m2)
            if opens < closes:
                return opens, closes
    raise ImproperlyConfigured(
        f"KANAL_DESK_HOURS must look like '07:00-22:00' (opens before closes), "
        f"not {raw!r}."
    )


#: The first proposal is at least this far ahead, so the desk can look first.
LEAD_TIME = timedelta(minutes=15)
#: Proposals are on the quarter hour's five minutes (10:05, not 10:03).
ROUND_TO = timedelta(minutes=5)
#: Between two posts on a channel without a cadence in its strategy.
DEFAULT_GAP = timedelta(hours=1)


@dataclass(frozen=True)
class Cadence:
    """How often a channel may post, from its strategy profile."""

    per_period: int  # 0: no limit
    period: str  # "day" | "week"
    gap: timedelta

    @property
    def label(self) -> str:
        if not self.per_period:
            return ""
        if self.period == "week":
            return _("højst %(n)d om ugen og ét om dagen") % {"n": self.per_period}
        return _("højst %(n)d om dagen, mindst %(gap)s imellem") % {
            "n": self.per_period,
            "gap": _duration(self.gap),
        }


def cadence_of(channel, opens: time, closes: time) -> Cadence:
    strategy = getattr(channel, "strategy", None)
    per = getattr(strategy, "cadence_max", 0) or 0
    period = getattr(strategy, "cadence_period", "day") or "day"
    if not per:
        return Cadence(0, "day", DEFAULT_GAP)
    if period == "week":
        return Cadence(per, "week", timedelta(days=1))
    open_span = datetime.combine(datetime.min, closes) - datetime.combine(
        datetime.min, opens
    )
    return Cadence(per, "day", open_span / per)


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return _("%(h)d t %(m)d min") % {"h": hours, "m": minutes}
    if hours:
        return _("%(h)d t") % {"h": hours}
    return _("%(m)d min") % {"m": minutes}


def _round_up(at: datetime) -> datetime:
    step = ROUND_TO.total_seconds()
    seconds = at.timestamp()
    rounded = -(-seconds // step) * step
    return datetime.fromtimestamp(rounded, tz=at.tzinfo)


def _desk_tz() -> ZoneInfo:
    """The desk's hours are in the installation's time zone (Copenhagen)."""
    return ZoneInfo(settings.TIME_ZONE)


def _into_desk_hours(at: datetime, opens: time, closes: time) -> datetime:
    local = at.astimezone(_desk_tz())
    tz = local.tzinfo
    if local.time() < opens:
        return datetime.combine(local.date(), opens, tzinfo=tz)
    if local.time() >= closes:
        return datetime.combine(local.date() + timedelta(days=1), opens, tzinfo=tz)
    return local


def _period_key(at: datetime, period: str):
    local = at.astimezone(_desk_tz())
    if period == "week":
        return local.isocalendar()[:2]
    return local.date()


def _next_period(at: datetime, period: str, opens: time) -> datetime:
    local = at.astimezone(_desk_tz())
    days = 7 - local.weekday() if period == "week" else 1
    return datetime.combine(local.date() + timedelta(days=days), opens,
                            tzinfo=local.tzinfo)


def post_key(pub) -> str:
    """One post's publications belong together (a loose one is its own)."""
    return f"post-{pub.post_id}" if pub.post_id else f"pub-{pub.pk}"


def propose_times(publications, *, now: datetime | None = None) -> dict[str, datetime]:
    """A new time for each paused post (key: ``post_key``), for the crisis
    lead to accept or change when the crisis ends.

    A post's channels move together; no post moves earlier than it was
    planned; every time falls within the desk's hours; and on each channel
    the strategy's cadence holds, counting what is already queued or
    published there and the proposals made before it (posts in the order
    they were planned).
    """
    now = now or timezone.now()
    opens, closes = desk_hours()
    earliest = _round_up(now + LEAD_TIME)
    groups: dict[str, list] = {}
    for pub in sorted(publications, key=lambda p: (p.planned_at, p.pk)):
        groups.setdefault(post_key(pub), []).append(pub)
    paused_ids = {p.pk for group in groups.values() for p in group}
    channel_ids = {p.channel_id for group in groups.values() for p in group}
    cadences: dict[int, Cadence] = {}
    for group in groups.values():
        for pub in group:
            if pub.channel_id not in cadences:
                cadences[pub.channel_id] = cadence_of(pub.channel, opens, closes)
    taken = {cid: _Taken(cadences[cid].period) for cid in channel_ids}
    others = (
        Publication.objects.filter(
            channel_id__in=channel_ids,
            is_crisis=False,
            status__in=(*CLAIMABLE, PublicationStatus.PUBLISHING,
                        PublicationStatus.PUBLISHED),
            planned_at__gte=now - timedelta(days=8),
        )
        .exclude(pk__in=paused_ids)
        .values_list("channel_id", "planned_at", "published_at", "status")
    )
    for channel_id, planned_at, published_at, status in others:
        at = published_at if status == PublicationStatus.PUBLISHED else planned_at
        taken[channel_id].add(at or planned_at)
    proposals: dict[str, datetime] = {}
    for key, group in groups.items():
        start = max(earliest, max(p.planned_at for p in group))
        channels = sorted({p.channel_id for p in group})
        at = _fit(start, channels, taken, cadences, opens, closes)
        proposals[key] = at
        for channel_id in channels:
            taken[channel_id].add(at)
    return proposals


class _Taken:
    """The times already used on one channel: sorted, with a count per day
    or week, so a fit is a few lookups rather than a scan."""

    def __init__(self, period: str) -> None:
        self.period = period
        self.times: list[datetime] = []
        self.per_period: dict = {}

    def add(self, at: datetime) -> None:
        bisect.insort(self.times, at)
        key = _period_key(at, self.period)
        self.per_period[key] = self.per_period.get(key, 0) + 1

    def latest_within(self, at: datetime, gap: timedelta) -> datetime | None:
        """The latest used time closer to ``at`` than ``gap``, if any."""
        i = bisect.bisect_left(self.times, at + gap)
        if i and self.times[i - 1] > at - gap:
            return self.times[i - 1]
        return None

    def used(self, at: datetime) -> int:
        return self.per_period.get(_period_key(at, self.period), 0)


def _fit(start, channels, taken, cadences, opens, closes) -> datetime:
    at = _into_desk_hours(_round_up(start), opens, closes)
    for _attempt in range(5000):
        moved_to = None
        for channel_id in channels:
            cadence = cadences[channel_id]
            near = taken[channel_id].latest_within(at, cadence.gap)
            if near is not None:
                moved_to = near + cadence.gap
                break
            if cadence.per_period and (
                taken[channel_id].used(at) >= cadence.per_period
            ):
                moved_to = _next_period(at, cadence.period, opens)
                break
        if moved_to is None:
            return at
        at = _into_desk_hours(_round_up(moved_to), opens, closes)
    return at


# ---------------------------------------------------------------------------
# Prepared templates


TEMPLATE_FIELDS = ("name", "event", "text", "link", "versions")


def _clean_versions(versions: Mapping[str, str] | None) -> dict[str, str]:
    from kanal.channels.models import Network

    known = set(Network.values)
    return {
        str(k): str(v).strip()
        for k, v in (versions or {}).items()
        if k in known and str(v or "").strip()
    }


def _check_template(name: str, text: str) -> None:
    if not (name or "").strip():
        raise ValueError(_("Giv skabelonen et navn."))
    if not (text or "").strip():
        raise ValueError(_("Skriv skabelonens besked."))


@transaction.atomic
def create_crisis_template(
    *,
    actor,
    organisation,
    name: str,
    event: str,
    text: str,
    link: str = "",
    versions: Mapping[str, str] | None = None,
) -> CrisisTemplate:
    """Prepare a crisis message for one kind of event."""
    crisis_template_policy.check(actor, "create")
    _check_template(name, text)
    if event not in CrisisEvent.values:
        raise ValueError(_("Vælg en hændelse."))
    template = CrisisTemplate(
        organisation=organisation,
        name=name.strip(),
        event=event,
        text=text.strip(),
        link=(link or "").strip(),
        versions=_clean_versions(versions),
        updated_by=getattr(actor, "user", None),
    )
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise ValueError(
            _("Der findes allerede en skabelon med navnet '%(name)s'.")
            % {"name": template.name}
        ) from None
    audit.record(
        "publishing.crisis_template.created",
        actor=actor,
        organisation=organisation,
        target=template,
        changes={f: getattr(template, f) for f in TEMPLATE_FIELDS},
    )
    return template


@transaction.atomic
def update_crisis_template(
    template: CrisisTemplate,
    *,
    actor,
    name: str,
    event: str,
    text: str,
    link: str = "",
    versions: Mapping[str, str] | None = None,
) -> CrisisTemplate:
    """Change a prepared crisis message."""
    crisis_template_policy.check(actor, "change", template)
    _check_template(name, text)
    if event not in CrisisEvent.values:
        raise ValueError(_("Vælg en hændelse."))
    template = CrisisTemplate.objects.select_for_update().get(pk=template.pk)
    before = audit.snapshot(template, TEMPLATE_FIELDS)
    template.name = name.strip()
    template.event = event
    template.text = text.strip()
    template.link = (link or "").strip()
    template.versions = _clean_versions(versions)
    template.updated_by = getattr(actor, "user", None)
    try:
        with transaction.atomic():
            template.save(update_fields=[*TEMPLATE_FIELDS, "updated_by", "updated_at"])
    except IntegrityError:
        raise ValueError(
            _("Der findes allerede en skabelon med navnet '%(name)s'.")
            % {"name": template.name}
        ) from None
    changes = audit.diff(template, TEMPLATE_FIELDS, before)
    if changes:
        audit.record(
            "publishing.crisis_template.changed",
            actor=actor,
            organisation=template.organisation,
            target=template,
            changes=changes,
        )
    return template


@transaction.atomic
def delete_crisis_template(template: CrisisTemplate, *, actor) -> None:
    """Remove a prepared crisis message (the audit log keeps its text)."""
    crisis_template_policy.check(actor, "delete", template)
    audit.record(
        "publishing.crisis_template.deleted",
        actor=actor,
        organisation=template.organisation,
        target=template,
        changes={f: getattr(template, f) for f in TEMPLATE_FIELDS},
    )
    template.delete()


#: What Kanal offers a desk that has no templates yet: one per kind of event,
#: with a short version for the networks with few characters. Written in the
#: installation's language (the language the city speaks to citizens in).
STARTER_TEMPLATES = (
    {
        "event": CrisisEvent.STORM_SURGE,
        "name": gettext_lazy("Stormflod"),
        "text": gettext_lazy(
            "Stormflod: DMI varsler vandstand op til [VANDSTAND] over normalen i "
            "[OMRÅDE] fra [TIDSPUNKT]. Flyt biler, cykler og værdier væk fra "
            "kældre og kajkanter. Kommunen opstiller sandsække ved [STED]. Hold "
            "dig væk fra havnefronten, og følg med på kk.dk. Ring 112 ved "
            "livsfare."
        ),
        "short": gettext_lazy(
            "Stormflod: op til [VANDSTAND] over normalen i [OMRÅDE] fra "
            "[TIDSPUNKT]. Flyt værdier fra kældre, hold dig fra kajkanten. "
            "Sandsække ved [STED]. Ring 112 ved livsfare."
        ),
    },
    {
        "event": CrisisEvent.CLOUDBURST,
        "name": gettext_lazy("Skybrud"),
        "text": gettext_lazy(
            "Skybrud: DMI varsler op til [MM] mm regn i [OMRÅDE] [TIDSPUNKT]. "
            "Hold kældervinduer og afløb fri, og flyt værdier op fra kælderen. "
            "Kør ikke gennem vand på vejen eller i tunneller. Meld oversvømmede "
            "veje på kk.dk. Ring 112 ved livsfare."
        ),
        "short": gettext_lazy(
            "Skybrud: op til [MM] mm regn i [OMRÅDE] [TIDSPUNKT]. Flyt værdier "
            "op fra kælderen, og kør ikke gennem vand på vejen. Ring 112 ved "
            "livsfare."
        ),
    },
    {
        "event": CrisisEvent.WATER_SUPPLY,
        "name": gettext_lazy("Vandforsyning"),
        "text": gettext_lazy(
            "Drikkevand: Vandet i [OMRÅDE] er [PROBLEM] fra [TIDSPUNKT]. Kog "
            "vandet i mindst ét minut, før du drikker det eller bruger det til "
            "mad og tandbørstning. Nødvand kan hentes ved [STED]. Vi melder ud "
            "her og på kk.dk, når vandet er sikkert igen. Ring 112 ved livsfare."
        ),
        "short": gettext_lazy(
            "Drikkevand i [OMRÅDE]: kog vandet i ét minut før brug til drikke "
            "og mad. Nødvand ved [STED]. Vi melder ud, når vandet er sikkert. "
            "Ring 112 ved livsfare."
        ),
    },
    {
        "event": CrisisEvent.IT_OUTAGE,
        "name": gettext_lazy("IT-nedbrud"),
        "text": gettext_lazy(
            "IT-nedbrud: Kommunens [SYSTEM] virker ikke fra [TIDSPUNKT], så "
            "Borgerservice kan ikke [HVAD] lige nu. Er det akut, så ring "
            "[TELEFON]. Vi arbejder på at løse det og melder ud her og på kk.dk, "
            "når det virker igen. Ring 112 ved livsfare."
        ),
        "short": gettext_lazy(
            "IT-nedbrud: [SYSTEM] virker ikke fra [TIDSPUNKT]. Akut? Ring "
            "[TELEFON]. Vi melder ud, når det virker igen."
        ),
    },
)
#: Networks the starter templates' short version is for.
SHORT_NETWORKS = ("x", "bluesky")


@transaction.atomic
def install_starter_templates(*, actor, organisation) -> list[CrisisTemplate]:
    """Create the starter template for each kind of event the organisation
    has none for (idempotent). Returns the templates created."""
    crisis_template_policy.check(actor, "create")
    have = set(
        CrisisTemplate.objects.filter(organisation=organisation).values_list(
            "event", flat=True
        )
    )
    names = set(
        CrisisTemplate.objects.filter(organisation=organisation).values_list(
            "name", flat=True
        )
    )
    created = []
    with translation.override(settings.LANGUAGE_CODE):
        for starter in STARTER_TEMPLATES:
            if starter["event"] in have or str(starter["name"]) in names:
                continue
            created.append(
                create_crisis_template(
                    actor=actor,
                    organisation=organisation,
                    name=str(starter["name"]),
                    event=starter["event"],
                    text=str(starter["text"]),
                    versions=dict.fromkeys(SHORT_NETWORKS, str(starter["short"])),
                )
            )
    return created


# ---------------------------------------------------------------------------
# Unpinning crisis messages when the crisis is over


def still_pinned(organisation_id: int):
    """Crisis messages Kanal pinned that are not yet unpinned."""
    return (
        Publication.objects.filter(
            organisation_id=organisation_id,
            is_crisis=True,
            pin=True,
            status=PublicationStatus.PUBLISHED,
        )
        .exclude(remote_id="")
        .exclude(unpin__done_at__isnull=False)
        .select_related("channel", "unpin")
        .order_by("published_at", "pk")
    )


def release_pin(unpin_id: int) -> bool:
    """Take one crisis message off the top of its profile (run as a task,
    after commit). Unpinning twice is harmless, so a retry is safe. Returns
    whether the network confirmed."""
    from kanal.channels.networks.errors import NetworkError

    unpin = CrisisUnpin.objects.select_related(
        "publication", "publication__channel", "publication__organisation"
    ).get(pk=unpin_id)
    if unpin.done_at is not None:
        return True
    pub = unpin.publication
    channel = pub.channel
    error = ""
    try:
        adapter = adapter_for(channel, timeout=conf.get("HTTP_TIMEOUT_SECONDS"))
        adapter.pin(pub.remote_id, pinned=False)
    except NetworkError as e:
        error = e.message
    except Exception as e:  # vault errors, an adapter without pin
        logger.exception("unpin of publication %s failed", pub.pk)
        error = str(e) or e.__class__.__name__
    with transaction.atomic():
        unpin = CrisisUnpin.objects.select_for_update().get(pk=unpin_id)
        unpin.attempts += 1
        unpin.last_error = error
        if not error:
            unpin.done_at = timezone.now()
        unpin.save(update_fields=["attempts", "last_error", "done_at"])
        audit.record(
            "publishing.publication.unpinned" if not error
            else "publishing.publication.unpin_failed",
            organisation=pub.organisation,
            target=pub,
            changes={"remote_id": pub.remote_id, "error": error},
        )
        if error:
            notify(
                crisis_leads(pub.organisation_id),
                kind="unpin_failed",
                params={"channel": str(channel), "why": error},
                about=pub,
                url=pub.url,
            )
    return not error


class CrisisMessageRefused(ValueError):
    """Nothing was sent: a version does not fit or a placeholder is left.
    ``composition`` holds every network's version for the page to show."""

    def __init__(self, composition: Composition) -> None:
        super().__init__(composition.refusal())
        self.composition = composition


@register()
def desk_hours_are_valid(app_configs, **kwargs):
    """``KANAL_DESK_HOURS`` is read when a crisis ends; check it at start."""
    try:
        desk_hours()
    except ImproperlyConfigured as e:
        return [Error(str(e), id="kanal.E101")]
    return []
