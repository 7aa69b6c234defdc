"""Each feed type, and the bad input feeds bring."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kanal.sources.parsers import (
    LOCAL,
    ParseError,
    parse_feed,
    parse_ical,
    parse_json,
)
from kanal.sources.text import plain_text

from .feeds import ics, ics_event, rss

SPRING = (datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 5, 1, tzinfo=UTC))
AUTUMN = (datetime(2027, 10, 1, tzinfo=UTC), datetime(2027, 12, 1, tzinfo=UTC))


def _local(item):
    return item.starts_at.astimezone(LOCAL)


def test_weekly_rrule_with_exdate_keeps_local_time_across_summer_time():
    body = ics(
        ics_event(
            "eventyr@bib",
            datetime(2027, 3, 13, 10, 0),
            "Eventyrtime",
            end=datetime(2027, 3, 13, 11, 0),
            extra="RRULE:FREQ=WEEKLY;COUNT=5\r\n"
            "EXDATE;TZID=Europe/Copenhagen:20270403T100000\r\n",
        )
    )
    items = parse_ical(body, start=SPRING[0], end=SPRING[1])

    days = [_local(i).date() for i in items]
    assert days == [
        date(2027, 3, 13),
        date(2027, 3, 20),
        date(2027, 3, 27),
        date(2027, 4, 10),
    ]
    # 10:00 in Copenhagen before and after the change on 28 March.
    assert {(_local(i).hour, _local(i).minute) for i in items} == {(10, 0)}
    assert [i.starts_at.utcoffset().total_seconds() / 3600 for i in items] == [
        1,
        1,
        1,
        2,
    ]
    assert len({i.guid for i in items}) == 4


def test_a_moved_occurrence_keeps_its_identity():
    body = ics(
        ics_event(
            "yoga@bad",
            datetime(2027, 10, 23, 9, 0),
            "Morgenyoga",
            extra="RRULE:FREQ=WEEKLY;COUNT=3\r\n",
        ),
        ics_event(
            "yoga@bad",
            datetime(2027, 10, 30, 12, 0),
            "Morgenyoga (flyttet)",
            extra="RECURRENCE-ID;TZID=Europe/Copenhagen:20271030T090000\r\n",
        ),
    )
    items = parse_ical(body, start=AUTUMN[0], end=AUTUMN[1])

    assert [(_local(i).day, _local(i).hour) for i in items] == [
        (23, 9),
        (30, 12),
        (6, 9),
    ]
    # Across the change to winter time (31 October) the hour stays 9.
    assert items[2].starts_at.utcoffset().total_seconds() == 3600
    # 30 October is still summer time: 09:00 there is 07:00 UTC.
    assert items[1].guid == "yoga@bad@20271030T070000Z"


def test_all_day_events_are_whole_days_in_copenhagen():
    body = ics(ics_event("fest@kh", date(2027, 3, 28), "Kulturnat"))
    (item,) = parse_ical(body, start=SPRING[0], end=SPRING[1])

    assert item.all_day
    assert _local(item) == datetime(2027, 3, 28, 0, 0, tzinfo=LOCAL)
    assert item.guid == "fest@kh"


def test_cancelled_events_are_marked():
    body = ics(
        ics_event(
            "a@b", datetime(2027, 3, 20, 10), "Aflyst", extra="STATUS:CANCELLED\r\n"
        )
    )
    (item,) = parse_ical(body, start=SPRING[0], end=SPRING[1])
    assert item.cancelled


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body>Not a calendar</body></html>",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:notadate\r\nEND:VCALENDAR\r\n",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\n",
        b"\xff\xfe\x00garbage BEGIN:VCALENDAR",
    ],
)
def test_malformed_calendars_give_a_danish_reason(body):
    with pytest.raises(ParseError) as e:
        parse_ical(body, start=SPRING[0], end=SPRING[1])
    assert "alender" in str(e.value)


def test_a_latin1_calendar_without_charset_is_read():
    body = ics(ics_event("a@b", datetime(2027, 3, 20, 10), "Læsekreds på Østerbro"))
    latin = body.decode().encode("latin-1")
    (item,) = parse_ical(latin, start=SPRING[0], end=SPRING[1])
    assert item.title == "Læsekreds på Østerbro"


def test_script_and_html_in_descriptions_become_text():
    text = plain_text(
        '<p>Kom og hør <b>jazz</b>&nbsp;i&nbsp;haven.</p><script>document.write("x")'
        "</script><style>p{}</style><img src=x onerror=alert(1)>Gratis &amp; åbent"
    )
    assert text == "Kom og hør jazz i haven.\nGratis & åbent"


def test_rss_items_are_read_with_links_and_dates():
    published = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    body = rss(
        (
            "kk-2",
            "Ny legeplads",
            "https://www.kk.dk/nyheder/leg",
            "<p>Åbner i dag</p>",
            published,
        ),
        ("kk-1", "Budget vedtaget", "https://www.kk.dk/nyheder/budget", "Kort"),
    )
    items = parse_feed(body)
    assert [i.guid for i in items] == ["kk-2", "kk-1"]
    assert items[0].summary == "Åbner i dag"
    assert items[0].link == "https://www.kk.dk/nyheder/leg"
    assert items[0].published_at == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


def test_atom_entries_are_read():
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Nyheder</title>
<id>urn:kk</id><updated>2026-12-07T08:00:00Z</updated>
<entry><id>urn:kk:1</id><title>Vinterbadning</title>
<link href="https://www.kk.dk/vinterbad"/><updated>2026-12-06T08:00:00Z</updated>
<summary type="html">&lt;b&gt;Nyt&lt;/b&gt; bad</summary></entry></feed>"""
    (item,) = parse_feed(body)
    assert (item.guid, item.title, item.link, item.summary) == (
        "urn:kk:1",
        "Vinterbadning",
        "https://www.kk.dk/vinterbad",
        "Nyt bad",
    )


def test_duplicated_guids_are_read_once():
    body = rss(
        ("same", "Første", "https://kk.dk/1", ""),
        ("same", "Anden", "https://kk.dk/2", ""),
    )
    assert [i.title for i in parse_feed(body)] == ["Første"]


def test_entity_expansion_is_refused():
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<rss version="2.0"><channel><title>&d;</title><item><title>&d;</title>
<guid>1</guid></item></channel></rss>"""
    with pytest.raises(ParseError) as e:
        parse_feed(bomb)
    assert "entiteter" in str(e.value)


def test_external_entities_are_refused():
    body = (
        b'<?xml version="1.0"?>'
        b'<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<rss version="2.0"><channel><item><title>&x;</title><guid>1</guid>'
        b"</item></channel></rss>"
    )
    with pytest.raises(ParseError):
        parse_feed(body)


@pytest.mark.parametrize(
    "body",
    [b"", b"<html><body><p>Nyheder</p></body></html>", b'{"not": "xml"}', b"\x00\x01"],
)
def test_malformed_feeds_give_a_danish_reason(body):
    with pytest.raises(ParseError) as e:
        parse_feed(body)
    assert "RSS eller Atom" in str(e.value)


def test_a_windows_1252_feed_is_decoded_by_its_declaration():
    body = rss(("1", "Sø og æbler", "https://kk.dk/1", "Ø"), encoding="windows-1252")
    (item,) = parse_feed(body)
    assert item.title == "Sø og æbler"


def test_json_events_are_read_through_the_mapping():
    body = """{"data": {"events": [
      {"uid": 7, "name": "Svømmeskole", "startDate": "2027-03-20T09:00:00",
       "venue": {"name": "Øbro Hallen"}, "link": "https://kk.dk/svom",
       "text": "<b>For børn</b>"},
      {"uid": 8, "name": "Uden tid"},
      "not an object"
    ]}}""".encode()
    mapping = {
        "items": "data.events",
        "id": "uid",
        "title": "name",
        "start": "startDate",
        "location": "venue.name",
        "url": "link",
        "description": "text",
    }
    (item,) = parse_json(body, mapping=mapping, start=SPRING[0], end=SPRING[1])
    assert item.guid == "7"
    assert item.title == "Svømmeskole"
    assert item.location == "Øbro Hallen"
    assert item.summary == "For børn"
    assert _local(item) == datetime(2027, 3, 20, 9, 0, tzinfo=LOCAL)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{not json", "gyldig JSON"),
        (b'{"events": {"a": 1}}', "ingen liste"),
        ('{"events": []}'.encode("latin-1") + b"\xff", "UTF-8"),
        (b"\xff\xfe\xfa\xfb", "gyldig JSON"),
    ],
)
def test_malformed_json_gives_a_danish_reason(body, words):
    with pytest.raises(ParseError) as e:
        parse_json(body, mapping={}, start=SPRING[0], end=SPRING[1])
    assert words in str(e.value)


def test_a_big_calendar_is_read_in_slices_that_keep_each_series_whole(monkeypatch):
    from kanal.sources import parsers

    monkeypatch.setattr(parsers, "EVENTS_PER_SLICE", 2)
    body = ics(
        ics_event(
            "yoga@bad",
            datetime(2027, 10, 23, 9, 0),
            "Morgenyoga",
            extra="RRULE:FREQ=WEEKLY;COUNT=3\r\n",
        ),
        ics_event("a@b", datetime(2027, 10, 24, 9, 0), "A"),
        ics_event("c@d", datetime(2027, 10, 25, 9, 0), "C"),
        # The moved occurrence comes last, three events after its series.
        ics_event(
            "yoga@bad",
            datetime(2027, 10, 30, 12, 0),
            "Morgenyoga (flyttet)",
            extra="RECURRENCE-ID;TZID=Europe/Copenhagen:20271030T090000\r\n",
        ),
    )
    items = parse_ical(body, start=AUTUMN[0], end=AUTUMN[1])
    assert [i.title for i in items] == [
        "Morgenyoga",
        "A",
        "C",
        "Morgenyoga (flyttet)",
        "Morgenyoga",
    ]
