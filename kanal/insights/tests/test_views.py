"""The dashboards: who may see them, what they show (Danish numbers and
dates, 'ingen data' rather than zero), charts with their tables, bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kanal.insights import tasks
from kanal.organisations.roles import Role

from .factories import metric, published_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(script, channel):
    """Two days of numbers for one channel and one post, rolled up."""
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    post = published_post(channel, published_at=now - timedelta(days=1, hours=2),
                          category="Kultur", purposes=["branding"])
    script.account = [metric("followers_count", 43000, "followers")]
    script.posts[post.remote_id] = [
        metric("post_media_view", 12345, "views"),
        metric("post_total_media_view_unique", 10000, "reach"),
        metric("post_reactions_like_total", 420, "likes"),
    ]
    tasks.collect_metrics(now=now - timedelta(days=1))
    script.account = [metric("followers_count", 43210, "followers")]
    tasks.collect_metrics(now=now)
    tasks.update_rollups(now=now)
    return {"post": post, "now": now}


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ADMIN, 200), (Role.EDITOR, 200), (Role.ANALYST, 200),
     (Role.CONTRIBUTOR, 403), (Role.APPROVER, 403), (Role.CRISIS_LEAD, 403)],
)
def test_insights_are_for_the_desk_admins_and_analysts(member, client_for, role,
                                                        status):
    client = client_for(member(role))
    for url in [reverse("insights:overview"), reverse("insights:cadence"),
                reverse("insights:dialogue"),
                reverse("insights:breakdown", args=["category"])]:
        assert client.get(url).status_code == status, url


def test_the_overview_shows_followers_growth_and_top_posts_in_danish(
    history, member, client_for
):
    client = client_for(member(Role.ANALYST))
    page = client.get(reverse("insights:overview")).content.decode()
    assert "43.210" in page  # Danish thousands separator
    assert '<td class="number">210</td>' in page  # growth over the period
    assert "12.345" in page
    assert "4,2 %" in page  # 420 of 10,000 reached
    assert 'data-chart="followers-data"' in page
    assert 'id="followers-data" type="application/json"' in page
    assert reverse("insights:publication", args=[history["post"].pk]) in page
    assert "<script>" not in page  # no inline script under the CSP


def test_the_overview_compares_with_the_previous_period(history, member,
                                                        client_for):
    client = client_for(member(Role.EDITOR))
    page = client.get(reverse("insights:overview")).content.decode()
    assert "Tilvækst, forrige periode" in page
    assert "sammenlignet med" in page


def test_a_period_with_no_data_says_so(history, member, client_for):
    client = client_for(member(Role.EDITOR))
    page = client.get(reverse("insights:overview"),
                      {"fra": "2020-01-01", "til": "2020-01-31"}).content.decode()
    assert "Ingen data endnu i denne periode." in page
    assert "43.210" not in page


def test_a_missing_number_is_ingen_data_not_zero(script, channel, member,
                                                 client_for):
    now = timezone.now()
    post = published_post(channel, published_at=now - timedelta(hours=2),
                          category="Borgerservice")
    script.posts[post.remote_id] = [metric("post_clicks", 3, "clicks")]
    tasks.collect_metrics(now=now)
    tasks.update_rollups(now=now)
    client = client_for(member(Role.EDITOR))
    page = client.get(reverse("insights:breakdown", args=["category"])).content
    page = page.decode()
    assert "Borgerservice" in page
    assert "ingen data" in page


def test_each_breakdown_is_a_chart_and_a_table(history, member, client_for):
    client = client_for(member(Role.EDITOR))
    page = client.get(reverse("insights:breakdown", args=["purpose"])).content
    page = page.decode()
    assert "Branding" in page
    assert 'data-chart="breakdown-data"' in page
    assert 'data-table="purpose"' in page


def test_an_unknown_dimension_is_404(member, client_for):
    client = client_for(member(Role.EDITOR))
    assert client.get(reverse("insights:breakdown", args=["farve"])).status_code == 404


@pytest.mark.parametrize("query", [
    {"fra": "2026-13-01"}, {"fra": "i går"},
    {"fra": "2026-05-01", "til": "2026-04-01"},
    {"fra": "2010-01-01", "til": "2026-01-01"},
    {"fra": "0001-01-01", "til": "0001-01-02"},
    {"fra": "9999-12-30", "til": "9999-12-31"},
    {"til": "0001-01-05"},
])
def test_a_bad_period_is_a_danish_message_and_400(member, client_for, query):
    client = client_for(member(Role.EDITOR))
    response = client.get(reverse("insights:overview"), query)
    assert response.status_code == 400
    page = response.content.decode()
    assert ("Indtast en gyldig dato" in page or "Perioden skal starte" in page
            or "højst tre år" in page or "mellem år 2000 og 2100" in page)


def test_cadence_is_measured_against_the_strategy(history, member, client_for,
                                                  channel):
    client = client_for(member(Role.EDITOR))
    yesterday = (history["now"] - timedelta(days=1)).date()
    page = client.get(reverse("insights:cadence"), {
        "fra": yesterday.isoformat(), "til": yesterday.isoformat()}).content.decode()
    # The factory's strategy: 2–4 a day; one post that day is under it.
    assert "2–4 pr. dag" in page
    assert "1,0 pr. dag" in page


def test_dialogue_has_an_empty_state_without_conversations(member, client_for):
    client = client_for(member(Role.ANALYST))
    page = client.get(reverse("insights:dialogue")).content.decode()
    assert "Ingen data endnu i denne periode." in page


def test_a_posts_own_page_shows_its_numbers_over_time(history, member, client_for):
    client = client_for(member(Role.ANALYST))
    page = client.get(
        reverse("insights:publication", args=[history["post"].pk])
    ).content.decode()
    assert "post_media_view (v25.0)" in page
    assert "12.345" in page
    assert 'data-chart="post-data"' in page


def test_another_organisations_post_is_404(history, client_for):
    from kanal.organisations.tests.factories import MembershipFactory

    stranger = MembershipFactory(role=Role.ADMIN)
    response = client_for(stranger).get(
        reverse("insights:publication", args=[history["post"].pk]))
    assert response.status_code == 404


def test_a_long_period_is_drawn_by_week_and_a_longer_one_by_month(
    history, member, client_for
):
    client = client_for(member(Role.EDITOR))
    end = history["now"].date()
    half_year = client.get(reverse("insights:overview"), {
        "fra": (end - timedelta(days=180)).isoformat(), "til": end.isoformat()})
    page = half_year.content.decode()
    assert "Følgere pr. kanal pr. uge" in page
    followers = page.split('data-table="followers"')[1].split("</table>")[0]
    # One row per week; the last week shows its last reading (43,210).
    assert followers.count("<tr>") == 1 + len({
        (end - timedelta(days=n)).isocalendar()[:2] for n in range(181)})
    assert followers.rstrip().split('<td class="number">')[-1].startswith("43.210")
    years = client.get(reverse("insights:overview"), {
        "fra": (end - timedelta(days=800)).isoformat(), "til": end.isoformat()})
    assert "Følgere pr. kanal pr. måned" in years.content.decode()


def test_top_posts_are_the_most_engaging_first(script, channel, organisation):
    from kanal.insights.selectors import Period, top_posts

    now = timezone.now()
    quiet = published_post(channel, published_at=now - timedelta(hours=3))
    loud = published_post(channel, published_at=now - timedelta(hours=2))
    unread = published_post(channel, published_at=now - timedelta(hours=1))
    script.posts = {
        quiet.remote_id: [metric("post_reactions_like_total", 5, "likes")],
        loud.remote_id: [metric("post_reactions_like_total", 90, "likes"),
                         metric("comments.summary.total_count", 10, "comments")],
    }
    tasks.collect_metrics(now=now)
    today = timezone.localdate(now)
    table = top_posts(organisation.pk, Period(today - timedelta(days=1), today))
    assert [(r["key"], r["engagement"]) for r in table.rows] == [
        (loud.pk, 100), (quiet.pk, 5), (unread.pk, None)]
