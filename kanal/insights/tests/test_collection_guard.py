"""Collection is guarded per channel, and every number a network sends is
checked before it is stored: one channel's absurd answer never stops the
collection of the channels after it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kanal.channels.networks.base import (
    MAX_COUNT,
    Metric,
    MetricsSnapshot,
    count_value,
)
from kanal.channels.tests.factories import ChannelFactory
from kanal.insights import tasks
from kanal.insights.models import AccountSample, ChannelCollection, RawResponse
from kanal.organisations.roles import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", [10**19, "99999999999999999999", float("inf"),
                                 float("-inf"), float("nan"), MAX_COUNT + 1,
                                 "9" * 5000])
def test_count_value_refuses_what_is_no_real_count(raw):
    assert count_value(raw) is None


@pytest.mark.parametrize(("raw", "number"), [(12, 12), ("12", 12), (0, 0),
                                             (MAX_COUNT, MAX_COUNT)])
def test_count_value_keeps_real_counts(raw, number):
    assert count_value(raw) == number


def two_channels(organisation):
    return (
        ChannelFactory(organisation=organisation, network="mastodon",
                       status="connected"),
        ChannelFactory(organisation=organisation, network="mastodon",
                       status="connected"),
    )


@pytest.mark.parametrize("raw", [10**19, "99999999999999999999", float("inf")])
def test_one_absurd_number_does_not_stop_collection(organisation, monkeypatch, raw):
    first, second = two_channels(organisation)

    class Adapter:
        def __init__(self, channel):
            self.channel = channel

        def fetch_metrics(self, remote_ids):
            value = raw if self.channel.pk == first.pk else 43000
            return MetricsSnapshot(
                account=(Metric("followers_count", count_value(value), "followers",
                                "v1"),),
                posts={}, taken_at=timezone.now())

    monkeypatch.setattr(tasks, "adapter_for", Adapter)
    assert tasks.collect_metrics() == 2
    assert AccountSample.objects.get(channel=second).value == 43000
    assert not AccountSample.objects.filter(channel=first, available=True).exists()


def test_an_absurd_number_given_raw_is_skipped_and_the_answer_kept(
    organisation, monkeypatch
):
    """An adapter that hands the number on as it came (not through
    count_value): the sample is skipped, the raw answer still kept."""
    first, second = two_channels(organisation)

    class Adapter:
        def __init__(self, channel):
            self.channel = channel

        def fetch_metrics(self, remote_ids):
            return MetricsSnapshot(account=(
                Metric("followers_count", 10**19, "followers", "v1"),
                Metric("views", float("inf"), "views", "v1"),
                Metric("reach\x00", 5, "reach", "v1"),
            ), posts={}, taken_at=timezone.now())

    monkeypatch.setattr(tasks, "adapter_for", Adapter)
    assert tasks.collect_metrics() == 2
    assert not AccountSample.objects.filter(available=True).exists()
    assert RawResponse.objects.filter(channel=first).count() == 1
    assert ChannelCollection.objects.get(channel=second).last_error == ""


def test_an_unreadable_answer_stops_only_its_channel_and_is_recorded(
    organisation, monkeypatch, member, client_for
):
    first, second = two_channels(organisation)
    now = timezone.now()

    class Adapter:
        def __init__(self, channel):
            self.channel = channel

        def fetch_metrics(self, remote_ids):
            if self.channel.pk == first.pk:
                # What json.loads raises on a deeply nested answer.
                raise RecursionError("maximum recursion depth exceeded")
            return MetricsSnapshot(account=(
                Metric("followers_count", 43000, "followers", "v1"),),
                posts={}, taken_at=now)

    monkeypatch.setattr(tasks, "adapter_for", Adapter)
    assert tasks.collect_metrics(now=now) == 1
    assert AccountSample.objects.get(channel=second).value == 43000
    state = ChannelCollection.objects.get(channel=first)
    assert "Tallene kunne ikke hentes" in state.last_error
    assert "RecursionError" in state.last_error
    assert state.wait_until > now
    # It is tried again at its next turn, not given up.
    later = now + timedelta(days=1)
    assert tasks.collect_channel(first.pk, now=later, dry_run=True) == 1
    # The desk sees it on the channel's page.
    page = client_for(member(Role.EDITOR)).get(f"/kanaler/{first.pk}/")
    assert "Tal fra netværket: Tallene kunne ikke hentes" in page.content.decode()
