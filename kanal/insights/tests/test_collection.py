"""Collection: daily account snapshots and post time series, as the networks
named their numbers; renamed, vanished and unreadable metrics; rate limits;
backfill; raw responses kept for a while."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kanal.channels.networks.errors import RateLimited, TransientError
from kanal.insights import tasks
from kanal.insights.models import (
    AccountSample,
    ChannelCollection,
    DirtyDay,
    PostSample,
    PostTracking,
    RawResponse,
)
from kanal.publishing.periodic import PERIODIC_JOBS

from .factories import metric, published_post

CPH = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=CPH)

pytestmark = pytest.mark.django_db


def account_numbers(channel, day):
    return {
        s.name: (s.kind, s.api_version, s.value, s.available)
        for s in AccountSample.objects.filter(channel=channel, day=day)
    }


def test_the_jobs_are_registered_with_the_worker():
    names = {job.name for job in PERIODIC_JOBS}
    assert {"insights_collect", "insights_rollup", "insights_prune_raw"} <= names


def test_a_daily_snapshot_keeps_the_networks_name_kind_and_version(script, channel):
    script.account = [
        metric("followers_count", 43000, "followers"),
        metric("page_media_view", 1200, "views"),
        metric("page_post_engagements", 310, "engagement"),
    ]
    assert tasks.collect_metrics(now=NOW) == 1
    assert account_numbers(channel, NOW.date()) == {
        "followers_count": ("followers", "v25.0", 43000, True),
        "page_media_view": ("views", "v25.0", 1200, True),
        "page_post_engagements": ("engagement", "v25.0", 310, True),
    }
    # The same day again: nothing new is due, the network is not asked.
    assert tasks.collect_metrics(now=NOW + timedelta(minutes=20)) == 0
    assert len(script.calls) == 1
    # The next day: one more snapshot, the day's numbers.
    script.account = [metric("followers_count", 43050, "followers")]
    tasks.collect_metrics(now=NOW + timedelta(days=1))
    assert AccountSample.objects.filter(channel=channel).count() == 6
    assert DirtyDay.objects.filter(day=NOW.date() + timedelta(days=1)).exists()


def test_a_renamed_metric_keeps_its_history_and_the_old_name_is_unavailable(
    script, channel
):
    script.account = [metric("page_impressions", 900, "views", "v22.0")]
    tasks.collect_metrics(now=NOW)
    script.account = [metric("page_media_view", 950, "views", "v25.0")]
    tomorrow = NOW + timedelta(days=1)
    tasks.collect_metrics(now=tomorrow)
    assert account_numbers(channel, NOW.date()) == {
        "page_impressions": ("views", "v22.0", 900, True),
    }
    assert account_numbers(channel, tomorrow.date()) == {
        "page_media_view": ("views", "v25.0", 950, True),
        # Vanished: recorded as unavailable, never as zero.
        "page_impressions": ("views", "v22.0", None, False),
    }


def test_negative_and_text_numbers_are_skipped_with_a_log_line_null_is_unavailable(
    script, channel, caplog
):
    script.account = [
        metric("followers_count", None, "followers"),
        metric("page_media_view", -5, "views"),
        metric("page_post_engagements", "310", "engagement"),
        metric("page_views_total", 12.5, "profile_visits"),
        metric("page_fans", True, "followers"),
        metric("page_total_media_view_unique", 77, "reach"),
    ]
    with caplog.at_level(logging.WARNING, logger="kanal.insights.actions"):
        tasks.collect_metrics(now=NOW)
    assert account_numbers(channel, NOW.date()) == {
        "page_total_media_view_unique": ("reach", "v25.0", 77, True),
        # Null is the network saying "no number": unavailable, not zero.
        "followers_count": ("followers", "v25.0", None, False),
    }
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 4
    assert any("'page_media_view'" in line and "negative" in line for line in skipped)
    # A number that was unreadable once is not "vanished" the next day.
    script.account = [metric("page_media_view", "n/a", "views")]
    tasks.collect_metrics(now=NOW + timedelta(days=1))
    assert not AccountSample.objects.filter(
        name="page_media_view", available=False
    ).exists()


def test_an_answer_the_adapter_cannot_read_is_skipped_not_a_crash(
    script, channel, caplog
):
    script.error = ValueError("invalid literal for int() with base 10: 'mange'")
    with caplog.at_level(logging.WARNING, logger="kanal.insights.tasks"):
        assert tasks.collect_metrics(now=NOW) == 0
    assert not AccountSample.objects.exists()
    assert "unreadable" in caplog.text
    assert "mange" in ChannelCollection.objects.get(channel=channel).last_error


def test_a_rate_limit_is_waited_out(script, channel):
    script.error = RateLimited(network="facebook", retry_after=1800)
    tasks.collect_metrics(now=NOW)
    state = ChannelCollection.objects.get(channel=channel)
    assert state.wait_until == NOW + timedelta(seconds=1800)
    script.error = None
    script.account = [metric("followers_count", 10, "followers")]
    assert tasks.collect_metrics(now=NOW + timedelta(minutes=29)) == 0
    assert len(script.calls) == 1
    assert tasks.collect_metrics(now=NOW + timedelta(minutes=31)) == 1
    assert len(script.calls) == 2


def test_a_transient_network_error_is_tried_again_later(script, channel):
    script.error = TransientError(network="facebook")
    assert tasks.collect_metrics(now=NOW) == 0
    assert ChannelCollection.objects.get(channel=channel).last_error
    script.error = None
    assert tasks.collect_metrics(now=NOW + timedelta(hours=1)) == 1


def test_posts_are_read_often_while_young_and_rarely_later(script, channel):
    young = published_post(channel, published_at=NOW - timedelta(hours=3))
    old = published_post(channel, published_at=NOW - timedelta(days=30))
    ancient = published_post(channel, published_at=NOW - timedelta(days=500))
    for p in (young, old, ancient):
        script.posts[p.remote_id] = [
            metric("post_media_view", 100, "views"),
            metric("post_reactions_like_total", 7, "likes"),
        ]
    tasks.collect_metrics(now=NOW)
    # Backfill: every published post is read the first time, however old.
    assert set(script.calls[0]) == {young.remote_id, old.remote_id, ancient.remote_id}
    due = {
        t.publication_id: (t.next_due_at, t.finished)
        for t in PostTracking.objects.all()
    }
    assert due[young.pk] == (NOW + timedelta(hours=1), False)
    assert due[old.pk] == (NOW + timedelta(days=1), False)
    assert due[ancient.pk][1] is True
    tasks.collect_metrics(now=NOW + timedelta(minutes=61))
    assert script.calls[1] == (young.remote_id,)
    series = list(
        PostSample.objects.filter(publication=young, name="post_media_view")
        .order_by("taken_at").values_list("value", flat=True)
    )
    assert series == [100, 100]
    tracking = PostTracking.objects.get(publication=young)
    assert tracking.latest == {"views": 100, "likes": 7}


def test_a_post_deleted_on_the_network_gets_no_zero(script, channel):
    post = published_post(channel, published_at=NOW - timedelta(hours=3))
    script.posts[post.remote_id] = [metric("post_media_view", 40, "views")]
    tasks.collect_metrics(now=NOW)
    del script.posts[post.remote_id]
    tasks.collect_metrics(now=NOW + timedelta(hours=2))
    tracking = PostTracking.objects.get(publication=post)
    assert tracking.missing_since == NOW + timedelta(hours=2)
    assert tracking.latest == {"views": 40}
    assert list(PostSample.objects.values_list("value", flat=True)) == [40]


def test_a_vanished_post_metric_is_recorded_as_unavailable(script, channel):
    post = published_post(channel, published_at=NOW - timedelta(hours=3))
    script.posts[post.remote_id] = [
        metric("post_impressions", 40, "views", "v22.0"),
        metric("post_clicks", 3, "clicks"),
    ]
    tasks.collect_metrics(now=NOW)
    script.posts[post.remote_id] = [metric("post_clicks", 4, "clicks")]
    tasks.collect_metrics(now=NOW + timedelta(hours=2))
    last = PostSample.objects.filter(taken_at=NOW + timedelta(hours=2))
    assert {(s.name, s.value, s.available) for s in last} == {
        ("post_clicks", 4, True),
        ("post_impressions", None, False),
    }
    assert PostTracking.objects.get(publication=post).latest == {"clicks": 4}


def test_the_day_is_kanals_not_the_networks_clock(script, channel):
    # 00:30 in Copenhagen is still the previous day in UTC.
    just_after_midnight = datetime(2026, 11, 21, 0, 30, tzinfo=CPH)
    script.account = [metric("followers_count", 5, "followers")]
    tasks.collect_metrics(now=just_after_midnight)
    assert AccountSample.objects.get().day == just_after_midnight.date()


def test_raw_answers_are_kept_for_the_configured_time(script, channel, settings):
    settings.KANAL_INSIGHTS = {"RAW_RETENTION_DAYS": 10}
    script.account = [metric("followers_count", 5, "followers")]
    tasks.collect_metrics(now=NOW)
    raw = RawResponse.objects.get()
    assert raw.body["account"][0] == {
        "name": "followers_count", "value": 5, "kind": "followers",
        "api_version": "v25.0",
    }
    assert tasks.prune_raw_responses(now=NOW + timedelta(days=9)) == 0
    assert tasks.prune_raw_responses(now=NOW + timedelta(days=11), dry_run=True) == 1
    assert RawResponse.objects.count() == 1
    assert tasks.prune_raw_responses(now=NOW + timedelta(days=11)) == 1
    assert not RawResponse.objects.exists()


def test_a_disabled_channel_is_not_collected(script, channel):
    channel.status = "disabled"
    channel.save(update_fields=["status"])
    assert tasks.collect_metrics(now=NOW) == 0
    assert script.calls == []


def test_a_run_stops_at_its_time_budget_and_the_longest_waiting_go_first(
    script, organisation, monkeypatch, settings
):
    """Collection shares the worker's network lane: one run starts no new
    channel after ``COLLECT_RUN_SECONDS``; the channels left were collected
    longest ago and go first in the next run."""
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.publishing import periodic

    settings.KANAL_INSIGHTS = {"COLLECT_RUN_SECONDS": 60.0}
    never = ChannelFactory(organisation=organisation, network="facebook")
    old, older = (ChannelFactory(organisation=organisation, network="facebook")
                  for _ in range(2))
    recent = ChannelFactory(organisation=organisation, network="facebook")
    for channel, days in ((old, 2), (older, 3), (recent, 1)):
        ChannelCollection.objects.create(
            channel=channel, last_day=(NOW - timedelta(days=days)).date(),
            last_collected_at=NOW - timedelta(days=days))
    clock = [0.0]
    monkeypatch.setattr(periodic.time, "monotonic", lambda: clock[0])

    def fetch(self, post_ids=()):
        clock[0] += 40  # every network answers in 40 s
        return original(self, post_ids)

    from .factories import MetricsAdapter

    original = MetricsAdapter.fetch_metrics
    monkeypatch.setattr(MetricsAdapter, "fetch_metrics", fetch)
    script.account = [metric("followers_count", 1, "followers")]

    def collected(at):
        return {c.channel_id for c in ChannelCollection.objects.filter(
            last_collected_at=at)}

    assert tasks.collect_metrics(now=NOW) == 2  # started at 0 s and 40 s
    assert collected(NOW) == {never.pk, older.pk}
    later = NOW + timedelta(minutes=1)
    assert tasks.collect_metrics(now=later) == 2
    assert collected(later) == {old.pk, recent.pk}
