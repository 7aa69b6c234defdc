"""The monthly PDF report: Danish, the month's tables and charts, bad input."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from kanal.insights import report, tasks
from kanal.organisations.roles import Role

from .factories import metric, published_post

CPH = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=CPH)

pytestmark = pytest.mark.django_db


@pytest.fixture
def november(script, channel):
    post = published_post(channel, published_at=NOW - timedelta(hours=2),
                          category="Borgerservice", purposes=["service"])
    script.posts[post.remote_id] = [metric("post_media_view", 12345, "views"),
                                    metric("post_reactions_like_total", 67, "likes")]
    script.account = [metric("followers_count", 43210, "followers")]
    tasks.collect_metrics(now=NOW)
    tasks.update_rollups(now=NOW)


@pytest.mark.usefixtures("november")
def test_the_month_report_holds_the_months_numbers_in_danish(organisation):
    pdf = report.monthly_report(organisation, date(2026, 11, 1), compress=False)
    assert pdf.startswith(b"%PDF")
    assert b"Sociale medier: m" in pdf
    assert b"november 2026" in pdf
    assert b"Borgerservice" in pdf
    assert b"12.345" in pdf
    assert b"43.210" in pdf
    assert b"Kadence mod strategien" in pdf


def test_a_month_without_data_says_so(organisation):
    pdf = report.monthly_report(organisation, date(2020, 1, 1), compress=False)
    assert b"Ingen data endnu i denne periode." in pdf
    assert b"43.210" not in pdf


@pytest.mark.usefixtures("november")
def test_the_report_downloads_as_pdf(member, client_for):
    client = client_for(member(Role.ANALYST))
    response = client.get(reverse("insights:monthly_report"), {"maaned": "2026-11"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "kanal-maanedsrapport-2026-11.pdf" in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")


@pytest.mark.parametrize("month", ["2026-13", "november", "2026", "0001-01",
                                   "9999-12", "2026-" + "9" * 30, "2026-0",
                                   "2026--1", "2100-01", "9" * 30 + "-01"])
def test_a_bad_month_is_a_danish_400(member, client_for, month):
    client = client_for(member(Role.EDITOR))
    response = client.get(reverse("insights:monthly_report"), {"maaned": month})
    assert response.status_code == 400
    assert "Skriv måneden som år-måned" in response.content.decode()


@pytest.mark.parametrize("quarter", ["2026-5", "2026-0", "2026-" + "9" * 30,
                                     "9" * 30 + "-1", "2100-1"])
def test_a_bad_quarter_is_a_danish_400(member, client_for, quarter):
    client = client_for(member(Role.EDITOR))
    response = client.get(reverse("insights:quarterly_report"),
                          {"kvartal": quarter})
    assert response.status_code == 400
    assert "Skriv kvartalet som år-kvartal" in response.content.decode()
