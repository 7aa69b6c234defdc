"""Token refresh against the X emulator (two-hour access tokens, single-use
refresh tokens): workers starting together, a stale read, a lost answer
right after a rotation. A channel is never stopped while its access token
still works."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from kanal.channels.models import Channel, ChannelStatus
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role
from kanal.publishing import tokens
from kanal.publishing.models import (
    ChannelTokenRefresh,
    Publication,
    PublicationStatus,
)

from .conftest import run_once, sandbox_channel

S = PublicationStatus
pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]


def x_channel(sandbox, organisation, *, expires_in: timedelta) -> Channel:
    channel = sandbox_channel(sandbox, organisation, "x")
    channel.token_expires_at = timezone.now() + expires_in
    channel.save(update_fields=["token_expires_at"])
    return channel


def publishes(channel) -> bool:
    from kanal.publishing.actions import queue_publication

    queue_publication(
        actor=None, organisation=channel.organisation, channel=channel,
        planned_at=timezone.now() - timedelta(seconds=1), post_id=None,
        variant_id=None, revision_id=None,
        text=f"Cykelstien er åben igen ({uuid.uuid4().hex[:8]})",
    )
    return run_once() == [S.PUBLISHED]


def test_x_tokens_are_refreshed_shortly_before_expiry_not_days_ahead(
    sandbox, organisation
):
    fresh = x_channel(sandbox, organisation, expires_in=timedelta(hours=2))
    soon = x_channel(sandbox, organisation, expires_in=timedelta(minutes=10))
    due = set(tokens.channels_due(timezone.now()).values_list("pk", flat=True))
    assert soon.pk in due
    assert fresh.pk not in due


def test_worker_holding_a_stale_read_does_not_present_a_used_refresh_token(
    sandbox, organisation
):
    channel = x_channel(sandbox, organisation, expires_in=timedelta(minutes=10))
    stale = Channel.objects.get(pk=channel.pk)  # worker B read it first
    assert tokens.refresh_channel_token(channel, owner="worker-a") == "refreshed"
    assert tokens.refresh_channel_token(stale, owner="worker-b") == "fresh"
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.CONNECTED
    assert channel.token_expires_at > timezone.now() + timedelta(hours=1)
    assert publishes(channel)


def test_workers_starting_together_refresh_each_x_channel_once(
    sandbox, organisation
):
    channels = [
        x_channel(sandbox, organisation, expires_in=timedelta(minutes=10))
        for _ in range(4)
    ]
    barrier = threading.Barrier(3)
    results: dict[str, int] = {}

    def start(name):
        try:
            barrier.wait(10)
            results[name] = tokens.refresh_due_tokens(owner=name)
        finally:
            connection.close()

    workers = [threading.Thread(target=start, args=(f"w{i}",)) for i in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert sum(results.values()) == len(channels)
    for channel in channels:
        channel.refresh_from_db()
        assert channel.status == ChannelStatus.CONNECTED
    assert not Notification.objects.filter(
        kind__in=("token_refresh_failed", "token_refresh_refused")
    ).exists()
    assert publishes(channels[0])


def test_lost_answer_after_a_rotation_alerts_a_person_and_keeps_publishing(
    sandbox, organisation, short_timeout, member
):
    channel = x_channel(sandbox, organisation, expires_in=timedelta(minutes=10))
    owner = member(Role.EDITOR, administration=channel.owner_administration)
    # X rotates the refresh token, and the answer never arrives.
    sandbox.fault("x", "timeout_after_create", operation="token",
                  account=channel.remote_id, delay_ms=10_000)
    assert tokens.refresh_channel_token(channel) == "error"
    # The next run presents the (now used) refresh token: X refuses it.
    assert tokens.refresh_channel_token(channel) == "refused"
    assert tokens.refresh_channel_token(channel) == "refused"
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.CONNECTED
    [note] = Notification.objects.filter(kind="token_refresh_refused")
    assert note.recipient == owner
    assert ChannelTokenRefresh.objects.get(channel=channel).lease_expires_at is None
    # The access token still works until it expires: posts go out.
    assert publishes(channel)
    assert Publication.objects.get().status == S.PUBLISHED


def test_refused_refresh_after_the_access_token_expired_needs_reconnection(
    sandbox, organisation, desk_admin
):
    channel = x_channel(sandbox, organisation, expires_in=timedelta(minutes=10))
    sandbox.fault("x", "expired_token", operation="token",
                  account=channel.remote_id)
    Channel.objects.filter(pk=channel.pk).update(
        token_expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert tokens.refresh_channel_token(channel) == "auth_expired"
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert Notification.objects.filter(kind="token_refresh_failed").exists()


def test_token_lock_is_short_and_measured_by_the_database(sandbox, organisation):
    from django.db.models.functions import Now

    channel = x_channel(sandbox, organisation, expires_in=timedelta(minutes=10))
    assert tokens._lock(channel.pk, "crashed-worker")
    state = ChannelTokenRefresh.objects.annotate(now=Now()).get(channel=channel)
    assert state.lease_expires_at - state.now <= timedelta(seconds=61)
    assert tokens.refresh_channel_token(channel) == "locked"
