from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from django.utils import timezone

from kanal.channels import adapters
from kanal.publishing import engine

from .fakes import NETWORK, FakeAdapter


@pytest.fixture
def fake_network():
    NETWORK.reset()
    networks = ("facebook", "instagram", "x", "mastodon", "bluesky", "linkedin",
                "threads")
    saved = dict(adapters.ADAPTER_OVERRIDES)
    adapters.ADAPTER_OVERRIDES.update(dict.fromkeys(networks, FakeAdapter))
    yield NETWORK
    adapters.ADAPTER_OVERRIDES.clear()
    adapters.ADAPTER_OVERRIDES.update(saved)


CONTRACTS = {
    "facebook": "TestFacebookContract",
    "instagram": "TestInstagramContract",
    "x": "TestXContract",
    "mastodon": "TestMastodonContract",
    "bluesky": "TestBlueskyContract",
    "linkedin": "TestLinkedInContract",
    "threads": "TestThreadsContract",
}


def sandbox_channel(sandbox, organisation, network: str, **fields):
    """A channel connected to a fresh account on ``network``'s emulator."""
    import importlib

    from kanal.channels import vault
    from kanal.channels.tests.factories import ChannelFactory

    module = importlib.import_module(
        f"kanal.channels.networks.tests.test_contract_{network}"
    )
    contract = getattr(module, CONTRACTS[network])()
    account = sandbox.provision(network, **contract.provision_options())
    conn = contract.make_connection(sandbox, account)
    return ChannelFactory(
        organisation=organisation, network=network, base_url=conn.base_url,
        remote_id=conn.account_id, handle=conn.handle,
        api_settings=dict(conn.settings),
        encrypted_credentials=vault.encrypt(dict(conn.credentials)),
        **fields,
    )


@pytest.fixture
def short_timeout(monkeypatch):
    """Publishing calls time out after 1 s (the sandbox's late answers take
    longer)."""
    from kanal.publishing import conf

    original = conf.get
    monkeypatch.setattr(
        conf, "get",
        lambda name: 1.0 if name == "HTTP_TIMEOUT_SECONDS" else original(name),
    )
    adapters._clients.clear()
    yield
    adapters._clients.clear()


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


@pytest.fixture
def facebook_queue(queue, organisation):
    """``queue`` on a Facebook channel: a network without idempotency keys,
    where a lost answer is settled by looking the post up."""
    from kanal.channels.tests.factories import ChannelFactory

    facebook = ChannelFactory(organisation=organisation, network="facebook")
    return lambda **fields: queue(channel=facebook, **fields)


def run_once(**kwargs):
    """Claim what is due, call, record, then the follow-up work (first
    comment, pin) this made due; returns the publications' statuses."""
    from django.test import TestCase


    with TestCase.captureOnCommitCallbacks(execute=True):
        jobs = engine.claim_due(owner="test", limit=kwargs.pop("limit", 50))
        statuses = [engine.record(job, engine.execute(job)) for job in jobs]
        run_follow_ups()
        return statuses


def run_follow_ups() -> list[str]:
    """Claim, run and record the due follow-ups once; their new statuses."""
    from kanal.publishing import followup

    jobs = followup.claim_follow_ups(owner="test", limit=50)
    return [
        followup.record_follow_up(followup.execute_follow_up(job)) for job in jobs
    ]


def expire_leases(**filters) -> int:
    """Let the leases of claimed publications run out, as the database's
    clock sees it (time-machine moves only Python's clock, and leases are
    measured by the database's)."""
    from django.db.models import DateTimeField, ExpressionWrapper
    from django.db.models.functions import Now

    from kanal.publishing.models import Publication, PublicationStatus

    past = ExpressionWrapper(Now() - timedelta(seconds=1), output_field=DateTimeField())
    return Publication.objects.filter(
        status=PublicationStatus.PUBLISHING, **filters
    ).update(lease_expires_at=past)


@contextlib.contextmanager
def call_threads(n: int):
    """A thread pool like the worker's, whose threads' database connections
    are closed at the end."""
    from concurrent.futures import ThreadPoolExecutor

    from kanal.publishing.worker import _close_thread_connections

    executor = ThreadPoolExecutor(n)
    try:
        yield executor
    finally:
        _close_thread_connections(executor, n)
        executor.shutdown(wait=True)


@pytest.fixture
def desk_admin(member):
    """An administrator: told about every failure, channel and crisis event."""
    from kanal.organisations.roles import Role

    return member(Role.ADMIN)
