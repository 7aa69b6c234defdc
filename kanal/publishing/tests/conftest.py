from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kanal.publishing import engine

from .fakes import NETWORK, FakeAdapter


@pytest.fixture
def fake_network():
    NETWORK.reset()
    networks = ("facebook", "instagram", "x", "mastodon", "bluesky", "linkedin",
                "threads")
    saved = dict(engine.ADAPTER_OVERRIDES)
    engine.ADAPTER_OVERRIDES.update(dict.fromkeys(networks, FakeAdapter))
    yield NETWORK
    engine.ADAPTER_OVERRIDES.clear()
    engine.ADAPTER_OVERRIDES.update(saved)


@pytest.fixture
def channel(organisation):
    from kanal.channels.tests.factories import ChannelFactory

    return ChannelFactory(organisation=organisation, network="mastodon")


@pytest.fixture
def queue(channel):
    """``queue(**fields)`` → a queued publication due now (or at planned_at)."""
    from kanal.publishing.actions import queue_publication

    counter = iter(range(1, 10_000))

    def make(*, planned_at=None, channel=channel, **fields):
        n = next(counter)
        return queue_publication(
            actor=None,
            organisation=channel.organisation,
            channel=channel,
            planned_at=planned_at or timezone.now() - timedelta(seconds=1),
            # Loose publications (no planning post) unless a test asks.
            post_id=fields.pop("post_id", None),
            variant_id=fields.pop("variant_id", None),
            revision_id=fields.pop("revision_id", None),
            text=fields.pop("text", f"Opslag nummer {n}"),
            **fields,
        )

    return make


def run_once(**kwargs):
    """Claim what is due, call, record (and run the follow-up tasks queued on
    commit); returns the statuses recorded."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        jobs = engine.claim_due(owner="test", limit=kwargs.pop("limit", 50))
        return [engine.record(job, engine.execute(job)) for job in jobs]
