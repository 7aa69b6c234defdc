"""Collection through the real adapters against the network sandbox: each
network's account numbers arrive under its own names with its API version,
and the hashtag search finds the sandbox citizens' #voreskbh."""

from __future__ import annotations

import uuid
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


def test_hashtag_uses_are_counted_from_each_networks_search_end_to_end(
    sandbox, organisation
):
    from kanal.channels.models import StrategyProfile
    from kanal.insights.models import HashtagDay, HashtagUse
    from kanal.insights.selectors import Period, hashtag_tables
    from kanal.planning.tests.factories import CampaignFactory

    # Tags of their own: the sandbox is shared by every test of the session.
    city, campaign = (f"voreskbh{uuid.uuid4().hex[:6]}",
                      f"havnebad{uuid.uuid4().hex[:6]}")
    networks = ("instagram", "mastodon", "bluesky", "x")
    channels = {n: sandbox_channel(sandbox, organisation, n) for n in networks}
    # Only these two tags are wanted (the sandbox's own citizens use #voreskbh).
    StrategyProfile.objects.filter(channel__organisation=organisation).update(
        default_hashtags=[])
    StrategyProfile.objects.update_or_create(
        channel=channels["x"], defaults={"default_hashtags": [f"#{city}"]})
    CampaignFactory(organisation=organisation, hashtags=[f"#{campaign}"])

    def citizen_posts(network: str, text: str) -> None:
        sandbox.citizen(network, text, kind="post",
                        account=f"citizen-{uuid.uuid4().hex[:8]}",
                        author_name="Mette Borger")

    for network in networks:
        citizen_posts(network, f"Solnedgang over Sydhavnen #{city}")
        citizen_posts(network, f"Første dukkert i år #{city} #{campaign}")
    now = timezone.now()
    found = tasks.collect_hashtags(now=now)
    assert found == 3 * len(networks)
    uses = {(d.network, d.tag): d.uses for d in HashtagDay.objects.filter(
        organisation=organisation)}
    assert uses == {
        **{(n, city): 2 for n in networks},
        **{(n, campaign): 1 for n in networks},
    }
    gallery = HashtagUse.objects.filter(organisation=organisation, tag=city)
    # Instagram's hashtag media carry no author (its API leaves it out).
    assert {(u.network, u.author_name) for u in gallery} >= {
        ("mastodon", "Mette Borger"), ("bluesky", "Mette Borger")}
    assert {u.network for u in gallery if not u.author_name} <= {"instagram"}
    assert all(u.url.startswith("https://") or u.url == "" for u in gallery)
    # Searching again finds the same posts: each is counted once.
    assert tasks.collect_hashtags(now=now + timedelta(hours=1)) == 0
    citizen_posts("mastodon", f"Kø ved Islands Brygge #{city}")
    assert tasks.collect_hashtags(now=now + timedelta(hours=2)) == 1
    day = timezone.localdate(now)
    table = hashtag_tables(organisation.pk, Period(day - timedelta(days=1),
                                                   day + timedelta(days=1)))[0]
    mastodon = next(r for r in table.rows if r["key"] == f"{city}:mastodon")
    assert (mastodon["label"], mastodon["uses"]) == (f"#{city}", 3)
