"""Hashtags: #voreskbh and campaign hashtags counted per network and day,
de-duplicated; the Instagram budget planner (30 per rolling 7 days); the
page with its gallery."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from kanal.channels import adapters
from kanal.channels.networks.base import HashtagPost
from kanal.channels.tests.factories import ChannelFactory
from kanal.insights import hashtags, tasks
from kanal.insights.models import HashtagDay, HashtagSearch, HashtagUse
from kanal.organisations.roles import Role
from kanal.planning.tests.factories import CampaignFactory

from .factories import TAGS, HashtagAdapter

CPH = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=CPH)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tag_world(monkeypatch, organisation):
    TAGS.__init__()
    for network in ("instagram", "mastodon", "x", "bluesky"):
        monkeypatch.setitem(adapters.ADAPTER_OVERRIDES, network, HashtagAdapter)
    channels = {
        network: ChannelFactory(organisation=organisation, network=network,
                                display_name=f"KK {network}")
        for network in ("instagram", "mastodon", "threads")
    }
    CampaignFactory(organisation=organisation, name="Sommer",
                    hashtags=["#SommerKBH", "#voreskbh"])
    return channels


def found(remote_id, author="Borger", hours_ago=1, url=None):
    return HashtagPost(
        remote_id=remote_id, author_name=author, text="Dejlig dag #voreskbh",
        created_at=NOW - timedelta(hours=hours_ago),
        url=url or f"https://example.org/{remote_id}",
    )


def test_the_wanted_tags_are_the_channels_own_then_the_campaigns(tag_world,
                                                                  organisation):
    assert hashtags.wanted_tags(organisation.pk, today=NOW.date()) == [
        "voreskbh", "sommerkbh"]


def test_uses_are_counted_per_network_and_day_once_each(tag_world, organisation):
    TAGS.posts[("mastodon", "voreskbh")] = [found("m1"), found("m2", hours_ago=30)]
    TAGS.posts[("instagram", "voreskbh")] = [found("i1")]
    assert tasks.collect_hashtags(now=NOW) == 3
    # Found again an hour later, with one new post: counted once each.
    TAGS.posts[("mastodon", "voreskbh")].append(found("m3"))
    assert tasks.collect_hashtags(now=NOW + timedelta(hours=1)) == 1
    days = {
        (d.network, d.tag, d.day): d.uses for d in HashtagDay.objects.all()
    }
    assert days == {
        ("mastodon", "voreskbh", NOW.date()): 2,
        ("mastodon", "voreskbh", NOW.date() - timedelta(days=1)): 1,
        ("instagram", "voreskbh", NOW.date()): 1,
    }
    # Threads cannot search tags; it is not asked.
    assert {network for network, _tag in TAGS.searches} == {"instagram", "mastodon"}


def test_a_post_dated_in_the_future_is_counted_today(tag_world, organisation):
    TAGS.posts[("mastodon", "voreskbh")] = [found("m1", hours_ago=-48)]
    tasks.collect_hashtags(now=NOW)
    assert HashtagUse.objects.get().day == NOW.date()


def test_the_instagram_planner_never_exceeds_30_in_7_days(tag_world):
    channel = tag_world["instagram"]
    tags = [f"tag{n}" for n in range(35)]
    plan = hashtags.plan_instagram(channel.pk, tags, now=NOW)
    assert plan.search == tags[:30]
    assert plan.not_covered == tags[30:]
    for tag in plan.search:
        HashtagSearch.objects.create(channel=channel, tag=tag,
                                     first_searched_at=NOW, last_searched_at=NOW)
    # Searching the same tags again is free; a new one must wait.
    later = NOW + timedelta(days=3)
    again = hashtags.plan_instagram(channel.pk, ["tag0", "ny"], now=later)
    assert (again.search, again.not_covered, again.used) == (["tag0"], ["ny"], 30)
    # After seven days the window has room again.
    week = hashtags.plan_instagram(channel.pk, ["ny"], now=NOW + timedelta(days=7,
                                                                             hours=1))
    assert (week.search, week.not_covered) == (["ny"], [])


def test_collection_on_instagram_keeps_within_the_budget(tag_world, organisation):
    channel = tag_world["instagram"]
    for n in range(29):
        HashtagSearch.objects.create(channel=channel, tag=f"gammel{n}",
                                     first_searched_at=NOW - timedelta(days=1),
                                     last_searched_at=NOW - timedelta(days=1))
    tasks.collect_hashtags(now=NOW)
    instagram = [tag for network, tag in TAGS.searches if network == "instagram"]
    assert instagram == ["voreskbh"]
    assert HashtagSearch.objects.filter(channel=channel).count() == 30
    # Re-searching #voreskbh a day later does not reset its timer.
    tasks.collect_hashtags(now=NOW + timedelta(days=1))
    row = HashtagSearch.objects.get(channel=channel, tag="voreskbh")
    assert row.first_searched_at == NOW


def test_the_page_shows_counts_the_gallery_and_what_instagram_cannot_cover(
    tag_world, organisation, member, client_for
):
    channel = tag_world["instagram"]
    # The page plans on the real clock.
    searched = timezone.now() - timedelta(days=1)
    for n in range(30):
        HashtagSearch.objects.create(channel=channel, tag=f"gammel{n}",
                                     first_searched_at=searched,
                                     last_searched_at=searched)
    TAGS.posts[("mastodon", "voreskbh")] = [
        found("m1", author="Havnebadet"),
        found("m2", url="javascript:alert(1)"),
    ]
    tasks.collect_hashtags(now=NOW)
    client = client_for(member(Role.EDITOR))
    page = client.get(reverse("insights:hashtags"), {
        "fra": (NOW.date() - timedelta(days=3)).isoformat(),
        "til": NOW.date().isoformat()}).content.decode()
    assert "#voreskbh" in page
    assert "Havnebadet" in page
    assert "https://example.org/m1" in page
    assert "javascript:" not in page
    assert "har brugt 30 af 30 hashtags" in page
    assert "#sommerkbh" in page  # named as not covered
    assert 'data-chart="hashtag-days-data"' in page
    assert "<img" not in page.split('id="gallery-title"')[1]


def test_a_run_stops_at_its_time_budget_and_the_longest_waiting_go_first(
    tag_world, organisation, monkeypatch, settings
):
    """The hashtag job shares the worker's network lane: one run starts no
    new search after ``HASHTAGS_RUN_SECONDS``; the searches left waited
    longest and go first in the next run."""
    from kanal.publishing import periodic

    settings.KANAL_INSIGHTS = {"HASHTAGS_RUN_SECONDS": 60.0}
    clock = [0.0]
    monkeypatch.setattr(periodic.time, "monotonic", lambda: clock[0])
    real = HashtagAdapter.search_hashtag

    def slow(self, tag, *, cursor=""):
        clock[0] += 40  # every network answers in 40 s
        return real(self, tag, cursor=cursor)

    monkeypatch.setattr(HashtagAdapter, "search_hashtag", slow)
    # Instagram searched #sommerkbh yesterday; nothing else was ever searched.
    HashtagSearch.objects.create(channel=tag_world["instagram"], tag="sommerkbh",
                                 first_searched_at=NOW - timedelta(days=1),
                                 last_searched_at=NOW - timedelta(days=1))
    tasks.collect_hashtags(now=NOW)
    assert TAGS.searches == [("instagram", "voreskbh"), ("mastodon", "voreskbh")]
    TAGS.searches.clear()
    tasks.collect_hashtags(now=NOW + timedelta(hours=1))
    assert TAGS.searches == [("mastodon", "sommerkbh"), ("instagram", "sommerkbh")]
    TAGS.searches.clear()
    tasks.collect_hashtags(now=NOW + timedelta(hours=2))
    assert TAGS.searches == [("instagram", "voreskbh"), ("mastodon", "voreskbh")]


def test_a_network_that_asks_to_wait_is_not_asked_again_in_the_run(
    tag_world, organisation, monkeypatch
):
    from kanal.channels.networks.errors import RateLimited

    def limited(self, tag, *, cursor=""):
        TAGS.searches.append((self.network, tag))
        raise RateLimited("vent", retry_after=60)

    monkeypatch.setattr(HashtagAdapter, "search_hashtag", limited)
    assert tasks.collect_hashtags(now=NOW) == 0
    assert TAGS.searches == [("instagram", "voreskbh"), ("mastodon", "voreskbh")]
    assert not HashtagSearch.objects.exists()
