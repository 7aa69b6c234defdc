"""Polling cadence: young posts often, old posts rarely, new channels at once.

The clock is moved with time-machine; nothing sleeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox import polling
from kanal.inbox.models import PollCursor

from .factories import published_post

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def polled(channel, at):
    PollCursor.objects.update_or_create(
        channel=channel, defaults={"last_polled_at": at, "cursor": "c"})


def due_after(channel, seconds) -> bool:
    with time_machine.travel(T0 + timedelta(seconds=seconds), tick=False):
        return channel in polling.due_channels(timezone.now())


@pytest.fixture
def mastodon(organisation):
    return ChannelFactory(organisation=organisation, network="mastodon",
                          status="connected")


def test_a_channel_with_a_young_post_is_polled_every_half_minute(mastodon):
    published_post(mastodon, published_at=T0 - timedelta(hours=1))
    polled(mastodon, T0)
    assert not due_after(mastodon, 29)
    assert due_after(mastodon, 30)


def test_a_channel_whose_newest_post_is_days_old_is_polled_every_quarter_hour(
    mastodon
):
    published_post(mastodon, published_at=T0 - timedelta(days=3))
    published_post(mastodon, published_at=T0 - timedelta(days=30))
    polled(mastodon, T0)
    assert not due_after(mastodon, 899)
    assert due_after(mastodon, 900)


def test_a_channel_with_only_old_posts_or_none_is_polled_hourly(organisation):
    old = ChannelFactory(organisation=organisation, network="bluesky",
                         status="connected")
    empty = ChannelFactory(organisation=organisation, network="bluesky",
                           status="connected")
    published_post(old, published_at=T0 - timedelta(days=60))
    polled(old, T0)
    polled(empty, T0)
    assert not due_after(old, 3599) and not due_after(empty, 3599)
    assert due_after(old, 3600) and due_after(empty, 3600)


def test_the_cadence_slows_as_the_post_ages(mastodon):
    published_post(mastodon, published_at=T0 - timedelta(hours=5, minutes=59))
    polled(mastodon, T0)
    assert due_after(mastodon, 30)  # still under six hours old
    polled(mastodon, T0 + timedelta(minutes=2))  # now just over six hours
    assert not due_after(mastodon, 120 + 119)
    assert due_after(mastodon, 120 + 120)


def test_a_post_not_yet_published_does_not_make_a_channel_young(mastodon):
    publication = published_post(mastodon, published_at=T0 - timedelta(minutes=5))
    publication.status = "queued"
    publication.save(update_fields=["status"])
    polled(mastodon, T0)
    assert not due_after(mastodon, 600)


def test_meta_channels_only_catch_up_even_with_a_young_post(organisation):
    facebook = ChannelFactory(organisation=organisation, network="facebook",
                              status="connected")
    published_post(facebook, published_at=T0 - timedelta(minutes=10))
    polled(facebook, T0)
    assert not due_after(facebook, 299)
    assert due_after(facebook, 300)


def test_a_newly_connected_channel_is_due_at_once_for_its_backfill(
    organisation, mastodon
):
    ChannelFactory(organisation=organisation, network="x", status="needs_reconnect")
    with time_machine.travel(T0, tick=False):
        assert polling.due_channels(timezone.now()) == [mastodon]
        assert polling.poll_due_channels(dry_run=True) == 1


def test_the_cadence_follows_the_settings(mastodon, settings):
    settings.KANAL_INBOX = {"POLL_CADENCE": [(86400, 45)], "POLL_OLD_EVERY": 600,
                            "POLL_NETWORK_FLOOR": {"mastodon": 10}}
    published_post(mastodon, published_at=T0 - timedelta(hours=2))
    polled(mastodon, T0)
    assert not due_after(mastodon, 44)
    assert due_after(mastodon, 45)
    assert polling.poll_every("mastodon", None, T0) == timedelta(seconds=600)
    assert polling.poll_every("mastodon", T0, T0) == timedelta(seconds=45)
