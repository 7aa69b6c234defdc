from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from kanal.channels.models import ChannelStatus
from kanal.channels.networks.errors import AuthExpired, TransientError
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role
from kanal.publishing import actions, tokens
from kanal.publishing.models import (
    ChannelTokenRefresh,
    Publication,
    PublicationStatus,
)

from .conftest import run_once

S = PublicationStatus
pytestmark = pytest.mark.django_db


def test_withdraw_cancels_not_started_publications_of_the_post(queue):
    a = queue(post_id=7)
    b = queue(post_id=7)
    other = queue(post_id=8)
    Publication.objects.filter(pk=b.pk).update(status=S.PUBLISHING)
    assert actions.withdraw_publications(actor=None, post_id=7, reason="Rettet") == 1
    assert Publication.objects.get(pk=a.pk).status == S.CANCELLED
    assert Publication.objects.get(pk=b.pk).status == S.PUBLISHING
    assert Publication.objects.get(pk=other.pk).status == S.QUEUED


def test_reschedule_moves_queued_publications_and_their_cutoff(queue):
    pub = queue(post_id=3)
    at = datetime(2031, 5, 1, 10, 0, tzinfo=UTC)
    assert actions.reschedule_publications(actor=None, post_id=3, planned_at=at) == 1
    pub = Publication.objects.get(pk=pub.pk)
    assert (pub.planned_at, pub.due_at) == (at, at)
    assert pub.late_after == at + timedelta(hours=2)


def test_queue_refuses_a_channel_of_another_organisation(queue, organisation):
    from kanal.channels.tests.factories import ChannelFactory

    foreign = ChannelFactory()
    with pytest.raises(ValueError):
        actions.queue_publication(
            actor=None, organisation=organisation, channel=foreign,
            planned_at=timezone.now(), post_id=1, variant_id=1, revision_id=1,
            text="x",
        )


def test_person_retries_a_failed_publication(fake_network, queue, member):
    editor = member(Role.EDITOR)
    pub = queue()
    Publication.objects.filter(pk=pub.pk).update(status=S.FAILED, attempts=3)
    actions.retry_publication(pub, actor=editor)
    assert Publication.objects.get(pk=pub.pk).attempts == 0
    assert run_once() == [S.PUBLISHED]


def test_person_marks_a_missed_publication_as_published_by_hand(queue, member):
    editor = member(Role.EDITOR)
    pub = queue()
    Publication.objects.filter(pk=pub.pk).update(status=S.MISSED)
    actions.mark_published_manually(pub, actor=editor, url="https://x.com/kk/1")
    pub = Publication.objects.get(pk=pub.pk)
    assert (pub.status, pub.url, pub.published_manually) == (
        S.PUBLISHED, "https://x.com/kk/1", True)


def test_contributor_may_not_retry(queue, member):
    from django.core.exceptions import PermissionDenied

    pub = queue()
    with pytest.raises(PermissionDenied):
        actions.retry_publication(pub, actor=member(Role.CONTRIBUTOR))


# -- tokens ------------------------------------------------------------------


@pytest.fixture
def expiring(channel):
    channel.token_expires_at = timezone.now() + timedelta(hours=2)
    channel.save()
    return channel


def test_token_about_to_expire_is_refreshed_and_stored(fake_network, expiring):
    assert tokens.refresh_due_tokens() == 1
    expiring.refresh_from_db()
    assert expiring.credentials()["access_token"] == "fresh-token"
    assert expiring.token_expires_at == datetime(2030, 1, 1, tzinfo=UTC)
    assert ChannelTokenRefresh.objects.get(channel=expiring).last_refreshed_at
    assert tokens.refresh_due_tokens() == 0  # no longer due


def test_refused_refresh_of_an_expired_token_marks_channel_and_notifies_owners(
    fake_network, expiring, member
):
    owner = member(Role.EDITOR, administration=expiring.owner_administration)
    expiring.token_expires_at = timezone.now() - timedelta(minutes=1)
    expiring.save()
    fake_network.refresh_script = [AuthExpired("Adgangen er trukket tilbage.")]
    tokens.refresh_due_tokens()
    expiring.refresh_from_db()
    assert expiring.status == ChannelStatus.NEEDS_RECONNECT
    note = Notification.objects.get(kind="token_refresh_failed")
    assert note.recipient == owner


def test_refused_refresh_while_the_access_token_works_alerts_once_and_keeps_channel(
    fake_network, expiring, member
):
    owner = member(Role.EDITOR, administration=expiring.owner_administration)
    fake_network.refresh_script = [AuthExpired("invalid_grant")] * 2
    assert tokens.refresh_due_tokens() == 0
    assert tokens.refresh_due_tokens() == 0
    expiring.refresh_from_db()
    assert expiring.status == ChannelStatus.CONNECTED
    [note] = Notification.objects.filter(kind="token_refresh_refused")
    assert note.recipient == owner
    assert "Forbind kanalen igen inden da" in note.message
    # A later successful refresh clears the alert, so the next refusal tells.
    assert tokens.refresh_due_tokens() == 1
    assert ChannelTokenRefresh.objects.get(channel=expiring).alerted_at is None


def test_transient_refresh_failure_is_kept_for_the_next_run(fake_network, expiring):
    fake_network.refresh_script = [TransientError()]
    assert tokens.refresh_channel_token(expiring) == "error"
    expiring.refresh_from_db()
    assert expiring.status == ChannelStatus.CONNECTED
    assert ChannelTokenRefresh.objects.get(channel=expiring).lease_expires_at is None


def test_refresh_is_skipped_while_another_worker_holds_the_channel_lock(
    fake_network, expiring
):
    ChannelTokenRefresh.objects.create(
        channel=expiring, lease_owner="other",
        lease_expires_at=timezone.now() + timedelta(minutes=1),
    )
    assert tokens.refresh_channel_token(expiring) == "locked"
    expiring.refresh_from_db()
    assert expiring.credentials()["access_token"] == "test-token"


def test_token_refresh_dry_run_changes_nothing(fake_network, expiring):
    assert tokens.refresh_due_tokens(dry_run=True) == 1
    expiring.refresh_from_db()
    assert expiring.credentials()["access_token"] == "test-token"
