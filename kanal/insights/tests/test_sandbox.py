"""Collection through the real adapters against the network sandbox: each
network's account numbers arrive under its own names with its API version,
and the hashtag search finds the sandbox citizens' #voreskbh."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kanal.channels import adapters
from kanal.channels.networks.tests.blank_numbers import blank_numbers
from kanal.insights import tasks
from kanal.insights.models import AccountSample, ChannelCollection, DailyRollup
from kanal.publishing.tests.conftest import sandbox_channel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("network", ["facebook", "instagram", "x", "mastodon",
                                     "bluesky", "linkedin", "threads"])
def test_each_networks_numbers_are_stored_as_it_names_them(sandbox, organisation,
                                                           network):
    channel = sandbox_channel(sandbox, organisation, network)
    tasks.collect_metrics(now=timezone.now())
    state = ChannelCollection.objects.get(channel=channel)
    samples = list(AccountSample.objects.filter(channel=channel))
    assert samples, (network, state.last_error)
    followers = [s for s in samples if s.kind == "followers"]
    assert followers and all(s.value >= 0 and s.available for s in followers)
    assert all(s.name for s in samples)


@pytest.mark.parametrize("network", ["facebook", "instagram", "x", "mastodon",
                                     "bluesky", "linkedin", "threads"])
def test_numbers_the_network_gives_as_null_are_stored_as_unavailable(
    sandbox, organisation, network
):
    channel = sandbox_channel(sandbox, organisation, network)
    today = timezone.now()
    tasks.collect_metrics(now=today)
    tomorrow = today + timedelta(days=1)
    client = adapters.shared_client(network, channel.base_url)
    with blank_numbers(client, "null"):
        tasks.collect_metrics(now=tomorrow)
    state = ChannelCollection.objects.get(channel=channel)
    assert state.last_error == ""
    day = timezone.localdate(tomorrow)
    followers = AccountSample.objects.filter(channel=channel, kind="followers")
    assert {(s.value, s.available) for s in followers.filter(day=day)} == {
        (None, False)
    }
    # Yesterday's number stays; the day without it is "ingen data", not 0.
    assert followers.get(day=timezone.localdate(today)).value > 0
    tasks.update_rollups(now=tomorrow)
    rollups = DailyRollup.objects.filter(dimension="channel", key=str(channel.pk))
    assert rollups.get(day=timezone.localdate(today)).followers > 0
    assert not rollups.filter(day=day, followers__isnull=False).exists()
