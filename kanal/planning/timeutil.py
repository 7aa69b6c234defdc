"""Copenhagen wall-clock time ↔ UTC, including the nights the clocks change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


@dataclass(frozen=True)
class LocalTime:
    value: datetime  # aware, UTC
    note: str = ""  # Danish, set when the wall-clock time had to be interpreted


def from_local(day: date, clock: time) -> LocalTime:
    """The instant a Copenhagen wall-clock time names.

    A time skipped when clocks go forward (02:30 on the last Sunday of March)
    is moved forward by the gap, to 03:30 summer time. A time that occurs
    twice (02:30 on the last Sunday of October) is the first one, in summer
    time. Either way the caller gets a note to show.
    """
    naive = datetime.combine(day, clock.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=COPENHAGEN, fold=0)
    second = naive.replace(tzinfo=COPENHAGEN, fold=1)
    round_trip = first.astimezone(UTC).astimezone(COPENHAGEN).replace(tzinfo=None)
    if round_trip != naive:
        moved = first.astimezone(UTC)
        shown = moved.astimezone(COPENHAGEN).strftime("%H:%M")
        return LocalTime(
            moved,
            _(
                "Klokken %(clock)s findes ikke den %(day)s, fordi uret stilles en "
                "time frem. Tiden er sat til %(shown)s sommertid."
            )
            % {
                "clock": f"{clock:%H:%M}",
                "day": f"{day:%d.%m.%Y}",
                "shown": f"{shown}",
            },
        )
    if first.utcoffset() != second.utcoffset():
        return LocalTime(
            first.astimezone(UTC),
            _(
                "Klokken %(clock)s forekommer to gange den %(day)s, fordi uret "
                "stilles en time tilbage. Kanal bruger den første (sommertid)."
            )
            % {"clock": f"{clock:%H:%M}", "day": f"{day:%d.%m.%Y}"},
        )
    return LocalTime(first.astimezone(UTC))


def to_local(value: datetime) -> datetime:
    return value.astimezone(COPENHAGEN)


def local_day_bounds(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """UTC instants from the start of ``first_day`` to the end of ``last_day``."""
    start = datetime.combine(first_day, time(0), tzinfo=COPENHAGEN)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=COPENHAGEN)
    return start.astimezone(UTC), end.astimezone(UTC)


def move_to_day(value: datetime, day: date) -> LocalTime:
    """``value``'s Copenhagen clock time on another day."""
    return from_local(day, to_local(value).time())
