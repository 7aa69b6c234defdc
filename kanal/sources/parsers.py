"""Turning a fetched body into items: iCalendar (with recurrences), RSS and
Atom, and JSON with a field mapping. Every parser raises ``ParseError`` with
a Danish sentence, never anything else."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

from django.utils.translation import gettext

from kanal import untrusted
from kanal.untrusted import happened_by, without_control

from .reasons import _
from .text import one_line, plain_text

logger = logging.getLogger("kanal.sources")

LOCAL = ZoneInfo("Europe/Copenhagen")


class ParseError(Exception):
    """The body could not be read; ``str()`` says why, in Danish."""


@dataclass(frozen=True)
class ParsedItem:
    guid: str
    title: str
    summary: str = ""
    link: str = ""
    image_url: str = ""
    location: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    all_day: bool = False
    published_at: datetime | None = None
    cancelled: bool = False
    #: A partner's post: its id on the network and its author (credit).
    remote_id: str = ""
    author_name: str = ""

    def fingerprint(self) -> str:
        data = asdict(self)
        data.pop("guid")
        for name in ("remote_id", "author_name"):
            # Feeds' items keep the fingerprints they were stored with.
            if not data[name]:
                data.pop(name)
        raw = json.dumps(data, default=str, sort_keys=True).encode()
        return hashlib.sha256(raw).hexdigest()


def clean(value) -> str:
    """``value`` as text without control characters or lone surrogates
    (PostgreSQL refuses a NUL byte; a GUID never needs one): the rule of
    ``kanal.untrusted.without_control``."""
    return without_control(value or "")


def safe_url(value) -> str:
    """A feed's address if ``kanal.untrusted.safe_url`` keeps it (once the
    whitespace around it, common in feeds, is gone), else "": an address
    with a control character or a space inside is left out, never mended
    into another one, and one too long is left out, never cut."""
    return untrusted.safe_url(value.strip() if isinstance(value, str) else value)


def _published(parsed) -> datetime | None:
    """A feed entry's publication time (feedparser's UTC tuple), when it can
    be one, at most now (``kanal.untrusted.happened_by``), else None."""
    try:
        return happened_by(datetime(*parsed[:6], tzinfo=UTC),
                           now=datetime.now(UTC))
    except (TypeError, ValueError, OverflowError):
        return None


def _aware(value) -> tuple[datetime | None, bool]:
    """``(aware datetime, all_day)`` for a date, naive or aware datetime.

    A date is a whole day in Copenhagen; a naive (floating) time is
    Copenhagen time."""
    if value is None:
        return None, False
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=LOCAL), False
        return value, False
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=LOCAL), True
    return None, False


def _dedupe(items: list[ParsedItem]) -> list[ParsedItem]:
    """The first item of each GUID (feeds do repeat GUIDs)."""
    seen: set[str] = set()
    out = []
    for item in items:
        if item.guid in seen:
            logger.info("source duplicate guid=%s skipped", item.guid[:120])
            continue
        seen.add(item.guid)
        out.append(item)
    return out


def _decode_text(body: bytes, content_type: str = "") -> str:
    """Text of ``body``: the declared charset, else UTF-8 (with or without a
    BOM), else Windows-1252 (what a missing charset usually means)."""
    charset = ""
    for part in content_type.split(";")[1:]:
        key, _sep, value = part.strip().partition("=")
        if key.lower() == "charset":
            charset = value.strip().strip('"')
    for encoding in filter(None, (charset, "utf-8-sig", "cp1252")):
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("latin-1")


# ---------------------------------------------------------------------------
# iCalendar


#: Events parsed at a time: a big calendar is read in slices of whole series
#: (an event and its moved occurrences share a UID), so memory stays bounded.
EVENTS_PER_SLICE = 500
#: A recurring event is read only when it repeats at most daily and at most
#: ``TIMES_PER_DAY`` times a day, with at most ``MAX_EXTRA_DATES`` extra dates
#: (RDATE): a few bytes of ``RRULE:FREQ=SECONDLY`` would otherwise become
#: millions of occurrences (a "recurrence bomb"). No municipal event repeats
#: more often; a series that does is left out and said on the source.
TIMES_PER_DAY = 4
MAX_EXTRA_DATES = 400
#: A recurring series starting before this year is left out: expanding it
#: walks every occurrence since its start.
SERIES_FROM_YEAR = 1970
#: What a recurring series weighs in a slice (a single event weighs 1).
SERIES_WEIGHT = 25
#: Reading one calendar stops with a Danish reason after this long.
PARSE_SECONDS = 30
#: Frequencies finer than a day.
_SUB_DAILY = frozenset({"SECONDLY", "MINUTELY", "HOURLY"})


class ParsedItems(list):
    """The items of a feed, and how many recurring series were left out
    because they repeat too often (``TIMES_PER_DAY``)."""

    skipped_series: int = 0


def parse_ical(
    body: bytes, *, content_type: str = "", start: datetime, end: datetime
) -> list[ParsedItem]:
    """Every event occurrence between ``start`` and ``end``, recurrences
    expanded (RRULE, RDATE, EXDATE, moved occurrences)."""
    text = _decode_text(body, content_type)
    if "BEGIN:VCALENDAR" not in text[:2000].upper():
        raise ParseError(
            _("Filen er ikke en iCalendar-kalender (mangler BEGIN:VCALENDAR).")
        )
    items: list[ParsedItem] = []
    skipped = 0
    deadline = monotonic() + PARSE_SECONDS
    for piece in _slices(text, EVENTS_PER_SLICE):
        if monotonic() > deadline:
            raise ParseError(_(
                "Kalenderen har for mange gentagne begivenheder til, at Kanal kan "
                "læse den inden for %(seconds)s sekunder."
            ) % {"seconds": PARSE_SECONDS})
        found, left_out = _parse_slice(piece, start, end)
        items += found
        skipped += left_out
    items.sort(key=lambda i: (i.starts_at, i.guid))
    result = ParsedItems(_dedupe(items))
    result.skipped_series = skipped
    return result


def _unreadable() -> ParseError:
    return ParseError(
        _("Kalenderen kunne ikke læses: den følger ikke iCalendar-formatet.")
    )


def _slices(text: str, size: int):
    """The calendar as calendars of at most ``size`` events (grouped by UID),
    each with the original's header (time zones and calendar properties)."""
    header: list[str] = []
    groups: dict[str, list[str]] = {}
    block: list[str] | None = None
    for line in text.splitlines():
        head = line[:16].upper()
        if block is None:
            if head.startswith("BEGIN:VEVENT"):
                block = [line]
            elif not head.startswith("END:VCALENDAR"):
                header.append(line)
            continue
        block.append(line)
        if head.startswith("END:VEVENT"):
            groups.setdefault(_uid_of(block) or f"#{len(groups)}", []).extend(block)
            block = None
    if block is not None:
        raise _unreadable()
    if not groups:
        yield "\r\n".join([*header, "END:VCALENDAR"]) + "\r\n"
        return
    # A recurring series costs its expansion: it weighs more, so a slice of
    # them stays quick and the deadline is looked at often.
    piece: list[str] = []
    weight = 0
    for lines in groups.values():
        recurring = any(line[:6].upper() in ("RRULE:", "RRULE;") for line in lines)
        cost = SERIES_WEIGHT if recurring else 1
        if piece and weight + cost > size:
            yield "\r\n".join([*header, *piece, "END:VCALENDAR"]) + "\r\n"
            piece, weight = [], 0
        piece += lines
        weight += cost
    yield "\r\n".join([*header, *piece, "END:VCALENDAR"]) + "\r\n"


def _uid_of(block: list[str]) -> str:
    for n, line in enumerate(block):
        if line[:4].upper() == "UID:" or line[:4].upper() == "UID;":
            value = line.split(":", 1)[1] if ":" in line else ""
            for more in block[n + 1 :]:
                if more[:1] not in (" ", "\t"):
                    break
                value += more[1:]
            return value.strip()
    return ""


def _too_frequent(event) -> bool:
    """Whether ``event`` repeats more often than Kanal reads (see
    ``TIMES_PER_DAY``), or since before ``SERIES_FROM_YEAR``: decided before
    any occurrence is made."""
    rules = event.get("RRULE")
    for rule in rules if isinstance(rules, list) else [rules]:
        if rule is None:
            continue
        try:
            first = event.get("DTSTART").dt
        except Exception:  # absent or unreadable: the expansion says so
            first = None
        if first is not None and getattr(first, "year", 0) < SERIES_FROM_YEAR:
            return True
        if any(str(f).upper() in _SUB_DAILY for f in rule.get("FREQ", [])):
            return True
        per_day = 1
        for part in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            per_day *= max(len(rule.get(part, [])), 1)
        if per_day > TIMES_PER_DAY:
            return True
    extra = event.get("RDATE")
    extra = extra if isinstance(extra, list) else [extra]
    return sum(len(getattr(e, "dts", ())) for e in extra if e is not None) \
        > MAX_EXTRA_DATES


def _parse_slice(
    text: str, start: datetime, end: datetime
) -> tuple[list[ParsedItem], int]:
    """The occurrences of one slice, and how many series were left out."""
    import icalendar
    import recurring_ical_events

    try:
        calendar = icalendar.Calendar.from_ical(text)
    except Exception as e:
        raise _unreadable() from e
    bombs = [c for c in calendar.subcomponents
             if c.name == "VEVENT" and _too_frequent(c)]
    left_out = {str(c.get("UID") or id(c)) for c in bombs}
    if bombs:
        logger.info("calendar: %s series repeating too often left out", len(left_out))
        # A moved occurrence of a left-out series goes with it.
        calendar.subcomponents = [
            c for c in calendar.subcomponents
            if not (c.name == "VEVENT" and str(c.get("UID") or id(c)) in left_out)]
    try:
        occurrences = recurring_ical_events.of(
            calendar, keep_recurrence_attributes=True, skip_bad_series=True
        ).between(start, end)
        series = {
            str(event.get("UID") or "")
            for event in calendar.walk("VEVENT")
            if any(key in event for key in ("RRULE", "RDATE", "RECURRENCE-ID"))
        }
        items = [_occurrence(event, series) for event in occurrences]
    except ParseError:
        raise
    except Exception as e:
        raise ParseError(
            _(
                "Kalenderen har begivenheder, hvis tider eller gentagelser ikke "
                "kan læses."
            )
        ) from e
    return [i for i in items if i is not None], len(left_out)


def _occurrence(event, series: set[str]) -> ParsedItem | None:
    uid = clean(event.get("UID"))
    dtstart = event.get("DTSTART")
    if dtstart is None:
        return None
    starts_at, all_day = _aware(dtstart.dt)
    dtend = event.get("DTEND")
    ends_at = _aware(dtend.dt)[0] if dtend is not None else None
    summary = one_line(str(event.get("SUMMARY") or ""), max_length=300)
    if not uid:
        uid = hashlib.sha256(summary.encode()).hexdigest()[:32]
    image = ""
    attachments = event.get("ATTACH") or event.get("IMAGE")
    for attachment in attachments if isinstance(attachments, list) else [attachments]:
        if attachment is None:
            continue
        fmt = str(getattr(attachment, "params", {}).get("FMTTYPE", "image/"))
        if fmt.startswith("image/") and safe_url(attachment):
            image = safe_url(attachment)
            break
    # One occurrence of a series is known by its original start (its
    # RECURRENCE-ID), so a moved occurrence stays the same item.
    guid = uid
    recurrence = event.get("RECURRENCE-ID")
    if recurrence is not None and uid in series:
        original = _aware(recurrence.dt)[0]
        guid = f"{uid}@{original.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return ParsedItem(
        guid=guid[:500],
        title=summary or gettext("(uden titel)"),
        summary=plain_text(str(event.get("DESCRIPTION") or "")),
        link=safe_url(event.get("URL")),
        image_url=image,
        location=one_line(str(event.get("LOCATION") or "")),
        starts_at=starts_at,
        ends_at=ends_at,
        all_day=all_day,
        cancelled=str(event.get("STATUS") or "").upper() == "CANCELLED",
    )


# ---------------------------------------------------------------------------
# RSS and Atom


_SURROGATE_REFERENCE = re.compile(
    # hex D800-DFFF, decimal 55296-57343
    rb"&#(?:[xX]0*[dD][89a-fA-F][0-9a-fA-F]{2}"
    rb"|0*(?:5529[6-9]|55[3-9][0-9]{2}|56[0-9]{3}|57[0-2][0-9]{2}|573[0-3][0-9]"
    rb"|5734[0-3]));")


def _not_a_feed() -> ParseError:
    return ParseError(
        _(
            "Feedet kunne ikke læses som RSS eller Atom (ugyldig XML). Tjek "
            "adressen, eller bed udgiveren rette feedet."
        )
    )


def parse_feed(body: bytes, *, content_type: str = "") -> list[ParsedItem]:
    """The entries of an RSS or Atom feed, newest first as the feed has them.

    Entity declarations are refused before the feed parser sees the body, so
    an entity bomb ("billion laughs") or an external entity never expands."""
    import defusedxml.ElementTree
    import feedparser
    from defusedxml import DefusedXmlException

    try:
        defusedxml.ElementTree.fromstring(body)
    except DefusedXmlException as e:
        raise ParseError(
            _(
                "Feedet indeholder XML-entiteter eller henvisninger til eksterne "
                "filer, som Kanal af sikkerhedshensyn ikke læser."
            )
        ) from e
    except Exception as e:
        # Not well-formed: the feed parser may still read it (it is lenient);
        # it never expands declared entities in that mode.
        logger.info("source feed not well-formed: %s", e)
    try:
        parsed = feedparser.parse(
            # A character reference to a lone surrogate (&#xD800;) is no
            # character; the feed parser would fail on the whole feed for it.
            _SURROGATE_REFERENCE.sub(b"", body),
            response_headers={"content-type": content_type or "application/xml"},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except UnicodeError as e:
        raise _not_a_feed() from e
    entries = parsed.get("entries") or []
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        raise _not_a_feed()
    items = []
    for entry in entries:
        link = safe_url(entry.get("link"))
        title = one_line(entry.get("title") or "", max_length=300)
        guid = clean(entry.get("id") or link or title)[:500]
        if not guid:
            continue
        content = entry.get("content") or []
        html = content[0].get("value", "") if content else ""
        summary = plain_text(entry.get("summary") or html)
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        published_at = _published(published)
        image = ""
        for media in (entry.get("media_content") or []) + (
            entry.get("enclosures") or []
        ):
            kind = str(media.get("type") or media.get("medium") or "")
            if kind.startswith("image"):
                image = safe_url(media.get("url") or media.get("href"))
                if image:
                    break
        items.append(
            ParsedItem(
                guid=guid,
                title=title or gettext("(uden titel)"),
                summary=summary,
                link=link,
                image_url=image,
                published_at=published_at,
            )
        )
    return _dedupe(items)


# ---------------------------------------------------------------------------
# JSON

#: The fields a JSON mapping may name, and what each means.
JSON_FIELDS = (
    "items",
    "id",
    "title",
    "description",
    "start",
    "end",
    "url",
    "image",
    "location",
    "cancelled",
)
DEFAULT_JSON_MAPPING = {
    "items": "events",
    "id": "id",
    "title": "title",
    "description": "description",
    "start": "start",
    "end": "end",
    "url": "url",
    "image": "image",
    "location": "location",
    "cancelled": "cancelled",
}


def _pick(record, path: str):
    value = record
    for key in filter(None, (path or "").split(".")):
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def _json_time(value) -> tuple[datetime | None, bool]:
    if not isinstance(value, str) or not value.strip():
        return None, False
    value = value.strip()
    try:
        if len(value) == 10:
            return _aware(date.fromisoformat(value))
        return _aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None, False


def parse_json(
    body: bytes, *, mapping: dict, start: datetime, end: datetime
) -> list[ParsedItem]:
    """Events from a JSON feed, read through ``mapping`` (field → dotted path)."""
    fields = {**DEFAULT_JSON_MAPPING, **(mapping or {})}
    try:
        data = json.loads(body)
    except UnicodeDecodeError as e:
        raise ParseError(
            _("JSON-feedet er ikke i UTF-8 (eller UTF-16/32), som JSON skal være.")
        ) from e
    except RecursionError as e:
        raise ParseError(
            _("Feedet er JSON, der er lagt dybere i hinanden, end Kanal læser.")
        ) from e
    except ValueError as e:
        raise ParseError(
            _("Feedet er ikke gyldig JSON (fejl ved tegn %(pos)s).")
            % {"pos": getattr(e, "pos", "?")}
        ) from e
    records = _pick(data, fields["items"]) if fields["items"] else data
    if not isinstance(records, list):
        raise ParseError(
            _(
                "Kanal fandt ingen liste af begivenheder under «%(path)s». Ret "
                "feltet for listen i kildens opsætning."
            )
            % {"path": fields["items"] or "(roden)"}
        )
    items = []
    skipped = 0
    for record in records:
        if not isinstance(record, dict):
            skipped += 1
            continue
        starts_at, all_day = _json_time(_pick(record, fields["start"]))
        title = one_line(str(_pick(record, fields["title"]) or ""), max_length=300)
        if starts_at is None or not title:
            skipped += 1
            continue
        ends_at = _json_time(_pick(record, fields["end"]))[0]
        if (ends_at or starts_at) < start or starts_at > end:
            continue
        raw_id = _pick(record, fields["id"])
        if raw_id in (None, ""):
            guid = f"{title}@{starts_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        else:
            guid = clean(raw_id)
        items.append(
            ParsedItem(
                guid=guid[:500],
                title=title,
                summary=plain_text(str(_pick(record, fields["description"]) or "")),
                link=safe_url(_pick(record, fields["url"])),
                image_url=safe_url(_pick(record, fields["image"])),
                location=one_line(str(_pick(record, fields["location"]) or "")),
                starts_at=starts_at,
                ends_at=ends_at,
                all_day=all_day,
                cancelled=_pick(record, fields["cancelled"]) in (True, "true", 1),
            )
        )
    if skipped:
        logger.info("source json skipped=%s records without title or start", skipped)
    return _dedupe(items)


def window(now: datetime, *, days: int) -> tuple[datetime, datetime]:
    """The span events are read for: from the start of today (Copenhagen)."""
    today = now.astimezone(LOCAL).date()
    return datetime.combine(today, time(0), tzinfo=LOCAL), datetime.combine(
        today + timedelta(days=days), time(0), tzinfo=LOCAL
    )
