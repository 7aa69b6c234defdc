"""Bluesky through the engine against its emulator (issue 9, finding 12):
the worker's token job, run every ten minutes, renews a two-hour session only
shortly before it expires and writes no audit entry for a routine renewal;
a post's record key is dated when it was published, so anything that orders
by key shows Kanal's posts in the order they were made."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from kanal.channels.models import ChannelStatus
from kanal.channels.networks.bluesky import _jwt_expiry, tid_time
from kanal.core.models import AuditEntry
from kanal.publishing import tokens
from kanal.publishing.actions import queue_publication
from kanal.publishing.models import Publication, PublicationStatus

from .conftest import run_once, sandbox_channel

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]


def bluesky_channel(sandbox, organisation):
    channel = sandbox_channel(sandbox, organisation, "bluesky")
    channel.token_expires_at = _jwt_expiry(channel.credentials()["access_token"])
    channel.save(update_fields=["token_expires_at"])
    return channel


def test_a_day_of_ten_minute_refresh_passes_renews_rarely_and_audits_nothing(
    sandbox, organisation, time_machine
):
    channel = bluesky_channel(sandbox, organisation)
    lifetime = channel.token_expires_at - timezone.now()
    assert timedelta(hours=1) < lifetime <= timedelta(hours=2)
    audited = AuditEntry.objects.count()
    start = timezone.now()
    refreshed = 0
    for step in range(24 * 6):
        time_machine.move_to(start + timedelta(minutes=10 * step), tick=False)
        refreshed += tokens.refresh_due_tokens()

    channel.refresh_from_db()
    # A two-hour session renewed 20 minutes before it ends: about every 100
    # minutes, not on each of the 144 passes.
    assert 10 <= refreshed <= 16
    assert AuditEntry.objects.count() == audited
    assert channel.status == ChannelStatus.CONNECTED
    # The session stored last is the one that still works then.
    assert _jwt_expiry(channel.credentials()["access_token"]) == \
        channel.token_expires_at > timezone.now()


def test_record_keys_are_dated_when_each_post_was_made(sandbox, organisation):
    channel = bluesky_channel(sandbox, organisation)
    keys = []
    for _ in range(3):
        before = timezone.now()
        queue_publication(
            actor=None, organisation=organisation, channel=channel,
            planned_at=timezone.now() - timedelta(seconds=1), post_id=None,
            variant_id=None, revision_id=None,
            text=f"Vejarbejde på Amagerbrogade ({uuid.uuid4().hex[:8]})",
        )
        assert run_once() == [PublicationStatus.PUBLISHED]
        pub = Publication.objects.filter(channel=channel).latest("pk")
        rkey = pub.remote_id.rsplit("/", 1)[-1]
        dated = tid_time(rkey)
        assert dated is not None, pub.remote_id
        assert before - timedelta(seconds=1) <= dated <= timezone.now()
        keys.append(rkey)
    # Keys sort in the order the posts were made (TIDs sort by time).
    assert keys == sorted(keys)
    on_network = [i["item_id"].rsplit("/", 1)[-1]
                  for i in sandbox.published("bluesky", channel.remote_id)]
    assert sorted(on_network) == keys
