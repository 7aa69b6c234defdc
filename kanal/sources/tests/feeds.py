"""Feed bodies for the tests, built relative to a day so they stay in the
future."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime


def ics_event(
    uid: str,
    start: datetime | date,
    summary: str,
    *,
    end=None,
    description="",
    location="Hovedbiblioteket, Krystalgade 15",
    url="https://bibliotek.kk.dk/arrangementer/1",
    extra="",
) -> str:
    if isinstance(start, datetime):
        dtstart = f"DTSTART;TZID=Europe/Copenhagen:{start:%Y%m%dT%H%M%S}"
        dtend = f"DTEND;TZID=Europe/Copenhagen:{end:%Y%m%dT%H%M%S}\r\n" if end else ""
    else:
        dtstart = f"DTSTART;VALUE=DATE:{start:%Y%m%d}"
        dtend = ""
    desc = description.replace("\n", "\\n").replace(",", "\\,")
    return (
        "BEGIN:VEVENT\r\n"
        f"UID:{uid}\r\n"
        "DTSTAMP:20260101T000000Z\r\n"
        f"{dtstart}\r\n{dtend}"
        f"SUMMARY:{summary}\r\n"
        f"DESCRIPTION:{desc}\r\n"
        f"LOCATION:{location.replace(',', chr(92) + ',')}\r\n"
        f"URL:{url}\r\n"
        f"{extra}"
        "END:VEVENT\r\n"
    )


def ics(*events: str) -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//DA\r\n"
        + "".join(events)
        + "END:VCALENDAR\r\n"
    ).encode()


def rss(*items: tuple, encoding="utf-8", declare=True) -> bytes:
    """RSS with ``(guid, title, link, description[, published])`` items;
    published defaults to now."""
    head = f'<?xml version="1.0" encoding="{encoding}"?>\n' if declare else ""
    now = datetime.now(UTC)
    body = "".join(
        f"<item><title>{item[1]}</title><link>{item[2]}</link>"
        f"<guid>{item[0]}</guid><description>{item[3]}</description>"
        f"<pubDate>{format_datetime(item[4] if len(item) > 4 else now)}</pubDate>"
        "</item>"
        for item in items
    )
    text = (
        f'{head}<rss version="2.0"><channel><title>Pressemeddelelser</title>'
        f"<link>https://www.kk.dk/nyheder</link><description>KK</description>"
        f"{body}</channel></rss>"
    )
    return text.encode(encoding)


def days_ahead(n: int, hour: int = 10, minute: int = 0) -> datetime:
    day = date.today() + timedelta(days=n)
    return datetime(day.year, day.month, day.day, hour, minute)
