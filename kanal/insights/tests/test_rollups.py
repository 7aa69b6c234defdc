"""Rollups per day × channel, category, purpose, administration and
campaign: incremental, resumable after a crash, and 'no data' is not zero."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from kanal.insights import rollups, tasks
from kanal.insights.models import DailyRollup, DirtyDay
from kanal.organisations.tests.factories import AdministrationFactory
from kanal.planning.tests.factories import CampaignFactory

from .factories import metric, published_post

CPH = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2026, 11, 20, 18, 0, tzinfo=CPH)
DAY = NOW.date()

pytestmark = pytest.mark.django_db


def rows(dimension, day=DAY):
    return {
        r.label: (r.posts, r.views, r.engagement, r.clicks)
        for r in DailyRollup.objects.filter(dimension=dimension, day=day)
    }


@pytest.fixture
def day_of_posts(script, channel, organisation):
    buf = AdministrationFactory(organisation=organisation, code="BUF", name="BUF")
    summer = CampaignFactory(organisation=organisation, name="Sommer i byen")
    a = published_post(channel, published_at=NOW - timedelta(hours=5),
                       category="Kultur", purposes=["branding", "dialogue"],
                       campaign=summer)
    b = published_post(channel, published_at=NOW - timedelta(hours=4),
                       category="Kultur", purposes=["branding"], administration=buf)
    c = published_post(channel, published_at=NOW - timedelta(hours=3),
                       category="Borgerservice", purposes=["information"])
    script.posts = {
        a.remote_id: [metric("post_media_view", 100, "views"),
                      metric("post_reactions_like_total", 10, "likes"),
                      metric("comments.summary.total_count", 2, "comments")],
        b.remote_id: [metric("post_media_view", 50, "views"),
                      metric("post_clicks", 4, "clicks")],
        # The network gave no numbers for c: it counts as a post, not as zero.
        c.remote_id: [],
    }
    script.account = [metric("followers_count", 43010, "followers"),
                      metric("page_media_view", 5000, "views")]
    return {"a": a, "b": b, "c": c, "buf": buf}


def test_each_dimension_sums_its_posts_latest_numbers(day_of_posts, channel):
    tasks.collect_metrics(now=NOW)
    assert tasks.update_rollups(now=NOW) == 1
    assert rows("category") == {
        "Kultur": (2, 150, 12, 4),
        "Borgerservice": (1, None, None, None),
    }
    assert rows("purpose") == {
        "Branding": (2, 150, 12, 4),
        "Dialog": (1, 100, 12, None),
        "Information": (1, None, None, None),
    }
    assert rows("administration") == {
        channel.owner_administration.code: (2, 100, 12, None),
        "BUF": (1, 50, None, 4),
    }
    assert rows("campaign") == {"Sommer i byen": (1, 100, 12, None)}
    (channel_row,) = DailyRollup.objects.filter(dimension="channel", day=DAY)
    assert (channel_row.posts, channel_row.views, channel_row.followers,
            channel_row.account_views, channel_row.followers_change) == (
        3, 150, 43010, 5000, None)
    assert not DirtyDay.objects.exists()


def test_followers_change_is_against_the_day_before(script, channel):
    script.account = [metric("followers_count", 100, "followers")]
    tasks.collect_metrics(now=NOW - timedelta(days=1))
    script.account = [metric("followers_count", 130, "followers")]
    tasks.collect_metrics(now=NOW)
    tasks.update_rollups(now=NOW)
    row = DailyRollup.objects.get(dimension="channel", day=DAY)
    assert (row.followers, row.followers_change) == (130, 30)


def test_only_changed_days_are_recomputed(day_of_posts, script):
    tasks.collect_metrics(now=NOW)
    tasks.update_rollups(now=NOW)
    with mock.patch.object(rollups, "recompute_day",
                           wraps=rollups.recompute_day) as recompute:
        assert tasks.update_rollups(now=NOW) == 0
        assert recompute.call_count == 0
        script.posts[day_of_posts["a"].remote_id] = [
            metric("post_media_view", 400, "views")]
        tasks.collect_metrics(now=NOW + timedelta(hours=2))
        assert tasks.update_rollups(now=NOW) == 1
        assert [c.args[1] for c in recompute.call_args_list] == [DAY]
    assert rows("campaign") == {"Sommer i byen": (1, 400, None, None)}


def test_a_crash_midway_is_resumed_and_never_leaves_half_a_day(
    day_of_posts, script, channel
):
    yesterday = published_post(channel, published_at=NOW - timedelta(days=1),
                               category="Kultur")
    script.posts[yesterday.remote_id] = [metric("post_media_view", 9, "views")]
    tasks.collect_metrics(now=NOW)
    assert DirtyDay.objects.count() == 2
    real = DailyRollup.objects.bulk_create
    calls = []

    def crash_on_second_day(objs, *a, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the machine died")
        return real(objs, *a, **kw)

    with (
        mock.patch.object(DailyRollup.objects, "bulk_create", crash_on_second_day),
        pytest.raises(RuntimeError),
    ):
        tasks.update_rollups(now=NOW)
    # Yesterday is done; today rolled back whole and is still marked.
    assert rows("category", DAY - timedelta(days=1)) == {"Kultur": (1, 9, None, None)}
    assert not DailyRollup.objects.filter(day=DAY).exists()
    assert list(DirtyDay.objects.values_list("day", flat=True)) == [DAY]
    assert tasks.update_rollups(now=NOW) == 1
    assert rows("category")["Kultur"] == (2, 150, 12, 4)


def test_numbers_arriving_during_a_recompute_keep_the_day_marked(
    day_of_posts, script
):
    tasks.collect_metrics(now=NOW)
    mark = DirtyDay.objects.get()
    # Collection bumps the mark after the rollup read it.
    DirtyDay.objects.filter(pk=mark.pk).update(marked_at=NOW + timedelta(minutes=1))
    rollups.recompute_day(mark.organisation_id, mark.day, marked_at=mark.marked_at)
    assert DirtyDay.objects.filter(day=DAY).exists()


def test_a_day_without_data_has_no_rows(organisation):
    assert rollups.recompute_day(organisation.pk, DAY) == 0
    assert not DailyRollup.objects.exists()
