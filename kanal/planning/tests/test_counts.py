"""Counts of output count only what was published (issue 11, finding 3).

The strategy report and the calendar's cadence chips count a variant as
published only when its publication went out; what is still planned and what
did not go out (failed, missed, the rest of a partially published post) are
counted apart and never fill a cadence target.
"""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
import time_machine
from django.urls import reverse

from kanal.planning import selectors
from kanal.planning.models import Post, PostStatus, Variant
from kanal.planning.timeutil import COPENHAGEN

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 16, 12, 0, tzinfo=COPENHAGEN)


def _post(desk, title, day, status, outcomes, hour=10):
    """A post on ``day`` with one variant per ``{network: publication status}``
    (as publishing leaves them)."""
    planned = datetime.combine(day, time(hour), tzinfo=COPENHAGEN)
    post = Post.objects.create(
        organisation=desk.organisation,
        owner_administration=desk.kff,
        title=title,
        shared_text=title,
        category="Arrangementer",
        purposes=["branding"],
        status=status,
        planned_at=planned,
        created_by=desk.editor.user,
    )
    for network, publication_status in outcomes.items():
        Variant.objects.create(
            post=post,
            channel=desk.channels[network],
            text=title,
            planned_at=planned,
            publication_status=publication_status,
        )
    return post


def _history(desk):
    yesterday = date(2026, 12, 15)
    _post(
        desk,
        "Delvist udgivet",
        yesterday,
        PostStatus.PARTIALLY_PUBLISHED,
        {"facebook": "published", "x": "failed"},
    )
    _post(desk, "Fejlet", yesterday, PostStatus.FAILED, {"facebook": "failed"}, 11)
    _post(desk, "Ikke nået", yesterday, PostStatus.MISSED, {"facebook": "missed"}, 12)
    _post(desk, "Ikke nået IG", yesterday, PostStatus.MISSED, {"instagram": "missed"})
    _post(
        desk,
        "Planlagt",
        date(2026, 12, 17),
        PostStatus.SCHEDULED,
        {"facebook": "queued"},
    )
    _post(desk, "Annulleret", yesterday, PostStatus.CANCELLED, {"facebook": ""}, 13)


@time_machine.travel(NOW, tick=False)
def test_the_report_counts_only_what_was_published(desk):
    _history(desk)
    report = selectors.strategy_report(
        desk.editor, date(2026, 12, 1), date(2026, 12, 31)
    )
    rows = {row["channel"].network: row for row in report["channels"]}
    assert (
        rows["facebook"]["published"],
        rows["facebook"]["planned"],
        rows["facebook"]["not_published"],
    ) == (1, 1, 2)
    assert rows["facebook"]["output"] == 2
    assert (rows["x"]["published"], rows["x"]["not_published"]) == (0, 1)
    assert (rows["instagram"]["published"], rows["instagram"]["not_published"]) == (
        0,
        1,
    )
    # Five posts: one partly out, one planned, three that did not go out.
    assert report["total_posts"] == 5
    assert (
        report["published_posts"],
        report["planned_posts"],
        report["not_published_posts"],
    ) == (1, 1, 3)
    kff = report["administrations"][0]
    assert (kff["posts"], kff["published"], kff["not_published"]) == (5, 1, 4)
    # What did not go out is not part of the output's categories.
    assert dict(report["categories"]) == {"Arrangementer": 2}


@time_machine.travel(NOW, tick=False)
def test_the_report_page_shows_the_counts_apart(desk, client_for):
    _history(desk)
    response = client_for(desk.analyst).get(
        reverse("planning:report"),
        {"first_day": "2026-12-01", "last_day": "2026-12-31"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    facebook = desk.channels["facebook"].pk
    row = html[html.index(f'data-channel="{facebook}"') :]
    row = row[: row.index("</tr>")]
    assert '<td class="published">1</td>' in row
    assert '<td class="planned">1</td>' in row
    assert '<td class="not-published">2</td>' in row
    assert "Udgivet: 1. Planlagt: 1. Ikke udgivet (fejlet eller ikke nået): 3." in html


@time_machine.travel(NOW, tick=False)
def test_cadence_chips_count_failed_and_missed_apart(desk):
    _history(desk)
    month = selectors.month_calendar(
        desk.editor, 2026, 12, selectors.CalendarFilter(), date(2026, 12, 16)
    )
    days = {d.date: d for week in month["weeks"] for d in week["days"]}
    chip = next(
        c
        for c in days[date(2026, 12, 15)].cadence
        if c["channel"].network == "facebook"
    )
    # One went out, two did not: below the strategy's 2–4 a day.
    assert (chip["count"], chip["state"]) == (1, "gap")
    assert (chip["published"], chip["not_published"]) == (1, 2)
    assert "1 udgivet, 2 ikke udgivet" in chip["label"]
    x = next(c for c in days[date(2026, 12, 15)].cadence if c["channel"].network == "x")
    assert (x["count"], x["not_published"], x["state"]) == (0, 1, "gap")
    # Instagram is weekly: the missed post does not count in week 51.
    week = next(w for w in month["weeks"] if w["number"] == 51)
    instagram = next(c for c in week["cadence"] if c["channel"].network == "instagram")
    assert (instagram["count"], instagram["not_published"]) == (0, 1)
    planned = next(
        c
        for c in days[date(2026, 12, 17)].cadence
        if c["channel"].network == "facebook"
    )
    assert (planned["count"], planned["planned"]) == (1, 1)


@time_machine.travel(NOW, tick=False)
def test_cadence_chips_ignore_failed_posts_when_filtered(desk):
    _history(desk)
    week = selectors.week_calendar(
        desk.editor,
        date(2026, 12, 14),
        selectors.CalendarFilter(category="Arrangementer"),
        date(2026, 12, 16),
    )
    row = next(r for r in week["cadence_rows"] if r["channel"].network == "facebook")
    tuesday = row["cells"][1]
    assert (tuesday["count"], tuesday["not_published"]) == (1, 2)
