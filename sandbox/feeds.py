"""Event and news feeds of Copenhagen's institutions, for Kanal's sources.

Served under ``/_feeds/``: a library's calendar (.ics, with weekly events and
an exception), a culture house's JSON events, a swimming bath's calendar
(all-day and cancelled events) and kk.dk-style press releases (RSS). Dates
are relative to today, so the demo always has coming events. Each answer has
an ETag and honours If-None-Match, as a real feed server does.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

LIBRARY = "Hovedbiblioteket, Krystalgade 15, 1172 København K"
SITE = "https://bibliotek.kk.dk/arrangementer"


def _ics_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\n", "\\n")
    )


def _vevent(
    uid,
    start,
    summary,
    *,
    minutes=90,
    description="",
    location="",
    url="",
    image="",
    extra=(),
) -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T080000Z"]
    if isinstance(start, datetime):
        end = start + timedelta(minutes=minutes)
        lines += [
            f"DTSTART;TZID=Europe/Copenhagen:{start:%Y%m%dT%H%M%S}",
            f"DTEND;TZID=Europe/Copenhagen:{end:%Y%m%dT%H%M%S}",
        ]
    else:
        lines += [
            f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
            f"DTEND;VALUE=DATE:{start + timedelta(days=1):%Y%m%d}",
        ]
    lines += [f"SUMMARY:{_ics_text(summary)}"]
    if description:
        lines.append(f"DESCRIPTION:{_ics_text(description)}")
    if location:
        lines.append(f"LOCATION:{_ics_text(location)}")
    if url:
        lines.append(f"URL:{url}")
    if image:
        lines.append(f"ATTACH;FMTTYPE=image/jpeg:{image}")
    lines += list(extra)
    lines.append("END:VEVENT")
    return lines


def _calendar(name: str, events: list[list[str]]) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Københavns Biblioteker//Arrangementer//DA",
        f"X-WR-CALNAME:{name}",
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Copenhagen",
        "BEGIN:DAYLIGHT",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "DTSTART:19700329T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "DTSTART:19701025T030000",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]
    for event in events:
        lines += event
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


def library_ics(today: date) -> bytes:
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    skipped = f"{_at(saturday + timedelta(days=14), 10, 30):%Y%m%dT%H%M%S}"
    return _calendar(
        "Hovedbiblioteket",
        [
            _vevent(
                "eventyrtime@hovedbiblioteket.kk.dk",
                _at(saturday, 10, 30),
                "Eventyrtime for de 3-6-årige",
                minutes=45,
                description=(
                    "<p>Kom og hør eventyr i børnebiblioteket. Vi læser højt, "
                    "synger og tegner.</p><p>Gratis – ingen tilmelding.</p>"
                ),
                location=LIBRARY,
                url=f"{SITE}/eventyrtime",
                image="https://bibliotek.kk.dk/billeder/eventyrtime.jpg",
                extra=(
                    "RRULE:FREQ=WEEKLY;COUNT=8",
                    f"EXDATE;TZID=Europe/Copenhagen:{skipped}",
                ),
            ),
            _vevent(
                "forfatteraften-1@hovedbiblioteket.kk.dk",
                _at(today + timedelta(days=5), 19, 0),
                "Forfatteraften: Tove Ditlevsens København",
                minutes=120,
                description=(
                    "Litteraturhistoriker Anne Ring fortæller om Vesterbro i "
                    "Ditlevsens bøger. Billetter 50 kr. i Musikbiblioteket."
                ),
                location=LIBRARY,
                url=f"{SITE}/forfatteraften-ditlevsen",
            ),
            _vevent(
                "lektiecafe@hovedbiblioteket.kk.dk",
                _at(today + timedelta(days=2), 15, 0),
                "Lektiecafé for 4.-10. klasse",
                minutes=120,
                description="Frivillige hjælper med matematik, dansk og engelsk.",
                location=LIBRARY,
                url=f"{SITE}/lektiecafe",
                extra=("RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10",),
            ),
            _vevent(
                "digital-hjaelp@hovedbiblioteket.kk.dk",
                _at(today + timedelta(days=9), 10, 0),
                "Digital hjælp: MitID og Digital Post",
                minutes=120,
                description="Få hjælp til MitID, Digital Post og borger.dk. Tag "
                "din telefon med.",
                location=LIBRARY,
                url=f"{SITE}/digital-hjaelp",
            ),
        ],
    )


def swimming_ics(today: date) -> bytes:
    where = "Øbro-Hallen, Gunnar Nu Hansens Plads 3, 2100 København Ø"
    return _calendar(
        "Øbro-Hallen",
        [
            _vevent(
                "vinterbadning@oebrohallen.kk.dk",
                today + timedelta(days=6),
                "Familiedag med vinterbadning og sauna",
                description="Hele dagen: prøv vinterbadning med livredder, "
                "varm kakao og sauna. Gratis for børn under 10.",
                location=where,
                url="https://svoemning.kk.dk/oebro-hallen/familiedag",
            ),
            _vevent(
                "babysvoem@oebrohallen.kk.dk",
                _at(today + timedelta(days=3), 9, 30),
                "Babysvømning",
                minutes=45,
                description="For forældre med babyer fra 3 måneder.",
                location=where,
                url="https://svoemning.kk.dk/oebro-hallen/babysvoemning",
                extra=("RRULE:FREQ=WEEKLY;COUNT=6",),
            ),
            _vevent(
                "morgensvoem-aflyst@oebrohallen.kk.dk",
                _at(today + timedelta(days=4), 6, 30),
                "Morgensvømning (aflyst pga. rengøring)",
                location=where,
                extra=("STATUS:CANCELLED",),
            ),
        ],
    )


def culture_house_json(today: date) -> bytes:
    house = "Kulturhuset Islands Brygge"
    events = [
        {
            "id": "kib-2031",
            "name": "Jazz i salen: Copenhagen Swing Quartet",
            "startDate": _at(today + timedelta(days=8), 20, 0).isoformat(),
            "endDate": _at(today + timedelta(days=8), 22, 0).isoformat(),
            "venue": {"name": f"{house}, Islands Brygge 18"},
            "url": "https://kulturhusetib.kk.dk/jazz-swing-quartet",
            "image": "https://kulturhusetib.kk.dk/billeder/swing.jpg",
            "description": "<p>Swing fra 30'erne med dansegulv. Billetter 80 kr.</p>",
        },
        {
            "id": "kib-2032",
            "name": "Strikkecafé",
            "startDate": _at(today + timedelta(days=4), 17, 0).isoformat(),
            "endDate": _at(today + timedelta(days=4), 19, 0).isoformat(),
            "venue": {"name": f"{house}, Café"},
            "url": "https://kulturhusetib.kk.dk/strikkecafe",
            "description": "Tag dit strikketøj med. Kaffe på kanden.",
        },
        {
            "id": "kib-2033",
            "name": "Børneteater: Den lille havfrue",
            "startDate": _at(today + timedelta(days=12), 10, 0).isoformat(),
            "venue": {"name": f"{house}, Salen"},
            "url": "https://kulturhusetib.kk.dk/havfrue",
            "description": "For børn fra 4 år. Varighed 40 minutter.",
        },
    ]
    return json.dumps({"data": {"events": events}}, ensure_ascii=False).encode()


#: The field mapping Kanal needs for the culture house's JSON.
CULTURE_HOUSE_MAPPING = {
    "items": "data.events",
    "id": "id",
    "title": "name",
    "start": "startDate",
    "end": "endDate",
    "location": "venue.name",
    "url": "url",
    "image": "image",
    "description": "description",
}


def press_rss(today: date) -> bytes:
    releases = [
        (
            "kk-presse-4411",
            "Ny svømmehal i Nordhavn åbner for offentligheden",
            "https://www.kk.dk/nyheder/ny-svoemmehal-i-nordhavn",
            "Borgerne kan fra mandag bruge den nye svømmehal med 50-meterbassin, "
            "varmtvandsbassin og plads til skolesvømning.",
            0,
        ),
        (
            "kk-presse-4410",
            "Flere træer og mindre asfalt på Nørrebro",
            "https://www.kk.dk/nyheder/flere-traeer-noerrebro",
            "<p>Teknik- og Miljøudvalget har vedtaget at plante 300 nye træer "
            "langs Nørrebrogade.</p>",
            1,
        ),
        (
            "kk-presse-4409",
            "Gratis adgang til kommunens museer i vinterferien",
            "https://www.kk.dk/nyheder/gratis-museer-vinterferie",
            "Børn og unge under 18 år kommer gratis ind i vinterferien.",
            2,
        ),
    ]
    items = []
    for guid, title, link, summary, days_ago in releases:
        published = datetime.combine(
            today - timedelta(days=days_ago), time(9, 0), tzinfo=UTC
        )
        items.append(
            f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
            f'<guid isPermaLink="false">{guid}</guid>'
            f"<description>{escape(summary)}</description>"
            f"<pubDate>{format_datetime(published)}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        "<title>Københavns Kommune – pressemeddelelser</title>"
        "<link>https://www.kk.dk/nyheder</link>"
        "<description>Nyheder og pressemeddelelser</description>"
        "<language>da</language>" + "".join(items) + "</channel></rss>"
    ).encode()


FEEDS = {
    "hovedbiblioteket.ics": (library_ics, "text/calendar; charset=utf-8"),
    "oebro-hallen.ics": (swimming_ics, "text/calendar; charset=utf-8"),
    "kulturhuset-islands-brygge.json": (culture_house_json, "application/json"),
    "kk-pressemeddelelser.xml": (press_rss, "application/rss+xml; charset=utf-8"),
}


async def feed(request: Request) -> Response:
    made = FEEDS.get(request.path_params["name"])
    if made is None:
        return Response("Ukendt feed", status_code=404)
    build, content_type = made
    body = build(date.today())
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type=content_type, headers={"ETag": etag})


def routes() -> list[Route]:
    return [Route("/_feeds/{name}", feed)]
