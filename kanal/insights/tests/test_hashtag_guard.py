"""What a network's tag search returns is checked before it is stored, and
one organisation's failure never stops the counting of the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import timezone as tz

import pytest
from django.utils import timezone

from kanal.channels import adapters
from kanal.channels.networks.base import HashtagPost
from kanal.channels.tests.factories import ChannelFactory
from kanal.insights import hashtags
from kanal.insights.models import HashtagUse
from kanal.organisations.tests.factories import OrganisationFactory
from kanal.planning.tests.factories import CampaignFactory

from .factories import TAGS, HashtagAdapter

pytestmark = pytest.mark.django_db


def record(organisation, **post):
    post = {"remote_id": "1", "author_name": "Mette", "text": "Sommer #voreskbh",
            "created_at": timezone.now(), "url": "https://kk.social/@a/1", **post}
    return hashtags.record_uses(organisation.pk, "mastodon", "voreskbh",
                                [HashtagPost(**post)], now=timezone.now())


def test_a_nul_character_leaves_the_text_and_the_name(organisation):
    assert record(organisation, text="Sommer i byen \x00 #voreskbh",
                  author_name="Mette\x0bHansen\ud800") == 1
    use = HashtagUse.objects.get()
    assert (use.text, use.author_name) == ("Sommer i byen #voreskbh", "Mette Hansen")


@pytest.mark.parametrize("url", ["https://kk.social/" + "a" * 1100,
                                 "https://kk.social/\x00", "javascript:alert(1)",
                                 "http://kk.social/1"])
def test_a_link_kanal_cannot_keep_is_left_out(organisation, url):
    assert record(organisation, url=url) == 1
    assert HashtagUse.objects.get().url == ""


@pytest.mark.parametrize("remote_id", ["9" * 201, "1\x00", "1\ud800"])
def test_a_post_whose_id_kanal_cannot_keep_is_skipped(organisation, remote_id):
    assert record(organisation, remote_id=remote_id) == 0
    assert not HashtagUse.objects.exists()


def test_a_time_kanal_cannot_date_counts_as_found_now(organisation):
    year_one = datetime(1, 1, 1, tzinfo=tz(timedelta(hours=1)))
    assert record(organisation, created_at=year_one) == 1
    use = HashtagUse.objects.get()
    assert use.posted_at is None
    assert use.day == timezone.localdate()


def test_one_organisations_failure_does_not_stop_the_others(monkeypatch):
    TAGS.__init__()
    monkeypatch.setitem(adapters.ADAPTER_OVERRIDES, "mastodon", HashtagAdapter)
    first, second = OrganisationFactory(slug="en"), OrganisationFactory(slug="to")
    for organisation in (first, second):
        ChannelFactory(organisation=organisation, network="mastodon",
                       status="connected")
        CampaignFactory(organisation=organisation, hashtags=["#voreskbh"])
    now = datetime.now(UTC)
    TAGS.posts[("mastodon", "voreskbh")] = [HashtagPost(
        remote_id="1", author_name="Mette", text="#voreskbh", created_at=now,
        url="https://kk.social/@a/1")]
    real = hashtags.record_uses

    def failing_for_the_first(organisation_id, *args, **kwargs):
        if organisation_id == first.pk:
            raise RecursionError("an answer nobody foresaw")
        return real(organisation_id, *args, **kwargs)

    monkeypatch.setattr(hashtags, "record_uses", failing_for_the_first)
    assert hashtags.collect_hashtags(now=now) == 1
    assert HashtagUse.objects.filter(organisation=second).count() == 1


def test_a_tag_longer_than_kanal_keeps_is_not_searched(organisation):
    CampaignFactory(organisation=organisation, hashtags=["#" + "a" * 101, "#kort"])
    assert hashtags.wanted_tags(organisation.pk) == ["kort"]


@pytest.mark.parametrize("remote_id", ["1 2", '{"id": 1}', "../1"])
def test_a_post_whose_id_is_no_networks_id_is_skipped(organisation, remote_id):
    """The rule of ``kanal.untrusted.usable_id``: before, only control
    characters and length were refused."""
    assert record(organisation, remote_id=remote_id) == 0
    assert not HashtagUse.objects.exists()


def test_a_time_without_a_zone_counts_as_found_now(organisation):
    assert record(organisation, created_at=datetime(2026, 1, 1, 12, 0)) == 1
    assert HashtagUse.objects.get().posted_at is None
