"""A tiny calendar whose one event repeats every second, minute or hour (a
"recurrence bomb") is not expanded into millions of occurrences, and one
fetch never floods the suggestions."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from kanal.sources import actions, parsers
from kanal.sources.models import Source, SourceItem, Suggestion

pytestmark = pytest.mark.django_db


def calendar(*events: str) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + "".join(events)
            + "END:VCALENDAR\r\n").encode()


def event(uid: str, rule: str = "", *, start: datetime | None = None,
          summary: str = "Bogcafé") -> str:
    when = start or datetime.now(UTC)
    d = f"{when.year:04d}" + when.strftime("%m%dT%H%M00Z")
    return (f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:{d}\r\nDTEND:{d}\r\n"
            f"SUMMARY:{summary}\r\n" + (f"RRULE:{rule}\r\n" if rule else "")
            + "END:VEVENT\r\n")


def window():
    return parsers.window(datetime.now(UTC), days=60)


@pytest.mark.parametrize("rule", [
    "FREQ=SECONDLY", "FREQ=MINUTELY", "FREQ=HOURLY",
    "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11;BYMINUTE=0,30",
    "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYMINUTE=0,1,2,3,4,5",
])
def test_a_series_repeating_too_often_is_left_out_quickly(rule):
    start, end = window()
    began = time.monotonic()
    items = parsers.parse_ical(calendar(event("bomb@x", rule), event("ok@x")),
                               start=start, end=end)
    assert time.monotonic() - began < 5
    assert [i.guid for i in items] == ["ok@x"]
    assert items.skipped_series == 1


def test_an_event_shown_twice_a_day_is_kept():
    start, end = window()
    first = datetime.now(UTC).replace(hour=10, minute=0) + timedelta(days=1)
    items = parsers.parse_ical(
        calendar(event("film@x", "FREQ=DAILY;COUNT=6;BYHOUR=10,14", start=first)),
        start=start, end=end)
    assert len(items) == 6
    assert items.skipped_series == 0


def test_an_hourly_series_does_not_flood_the_suggestions_and_is_said_on_the_source(
    feed_server, make_source
):
    feed_server.serve("/k.ics", calendar(event("bomb@x", "FREQ=HOURLY"),
                                         event("ok@x", start=datetime.now(UTC)
                                               + timedelta(days=3))))
    source = make_source(feed_server.url("/k.ics"))
    message = actions.refresh_source(source, actor=None)
    assert list(SourceItem.objects.values_list("guid", flat=True)) == ["ok@x"]
    assert Suggestion.objects.count() <= 3  # one per channel at most
    assert "1 gentagne begivenheder blev sprunget over" in message
    source = Source.objects.get(pk=source.pk)
    assert source.status == "ok"
    assert "gentages oftere end 4 gange om dagen" in source.error_message


def test_one_fetch_makes_at_most_its_share_of_suggestions(
    feed_server, make_source, monkeypatch
):
    monkeypatch.setattr(actions, "SUGGESTIONS_PER_FETCH", 5)
    soon = datetime.now(UTC) + timedelta(days=2)
    feed_server.serve("/many.ics", calendar(*(
        event(f"e{n}@x", start=soon + timedelta(hours=n), summary=f"Koncert {n}")
        for n in range(20))))
    source = make_source(feed_server.url("/many.ics"))
    message = actions.refresh_source(source, actor=None)
    assert SourceItem.objects.count() == 20
    made = Suggestion.objects.count()
    assert 0 < made <= 5 + 2  # the last item's channels finish their share
    assert "nye emner fik ikke forslag" in message


def test_a_series_since_year_one_is_left_out_quickly():
    start, end = window()
    ancient = datetime(1, 1, 1, 10, tzinfo=UTC)
    began = time.monotonic()
    items = parsers.parse_ical(calendar(*(
        event(f"old{n}@x", "FREQ=DAILY;BYHOUR=10,14", start=ancient)
        for n in range(20))), start=start, end=end)
    assert time.monotonic() - began < 5
    assert (len(items), items.skipped_series) == (0, 20)


def test_reading_a_calendar_stops_at_its_deadline(monkeypatch):
    """Many series that each cost their expansion: read in small slices, and
    the reading stops with a Danish reason once its time is up."""
    monkeypatch.setattr(parsers, "PARSE_SECONDS", 0)
    start, end = window()
    body = calendar(*(event(f"s{n}@x", "FREQ=WEEKLY") for n in range(60)))
    with pytest.raises(parsers.ParseError, match="for mange gentagne begivenheder"):
        parsers.parse_ical(body, start=start, end=end)
    monkeypatch.setattr(parsers, "PARSE_SECONDS", 30)
    assert len(parsers.parse_ical(body, start=start, end=end)) > 60


def test_a_series_with_too_many_extra_dates_is_left_out():
    start, end = window()
    first = datetime.now(UTC) + timedelta(days=1)
    dates = ",".join((first + timedelta(minutes=n)).strftime("%Y%m%dT%H%M00Z")
                     for n in range(parsers.MAX_EXTRA_DATES + 1))
    many = event("rdate@x", start=first).replace(
        "END:VEVENT", f"RDATE:{dates}\r\nEND:VEVENT")
    items = parsers.parse_ical(calendar(many, event("ok@x")), start=start, end=end)
    assert [i.guid for i in items] == ["ok@x"]
    assert items.skipped_series == 1
