"""OUTSIDE TESTER 2 (branch tester2): failing tests for polling, judged by
the sandbox. Each test names its finding in /work/briefs/findings2.md. They
fail on main as of 39dbe77."""

from __future__ import annotations

import pytest

from kanal.inbox import polling
from kanal.inbox.models import InboxItem
from kanal.publishing.tests.conftest import sandbox_channel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mastodon(sandbox, organisation):
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost

    channel = sandbox_channel(sandbox, organisation, "mastodon")
    post = adapter_for(channel).publish(OutgoingPost(text="Havnebadet åbner"),
                                        idempotency_key="t2-post")
    made = sandbox.citizen("mastodon", "@kbh hvornår åbner havnebadet?",
                           parent_id=post.remote_id, author_name="Mette")
    polling.poll_channel(channel)
    item = InboxItem.objects.get(channel=channel, remote_id=made["item_id"])
    return {"channel": channel, "item": item, "sandbox": sandbox}


def test_finding_5_a_citizens_deletion_on_a_polled_network_is_recorded(mastodon):
    """Finding 5: only Meta's webhook "remove" marks an item deleted. On the
    polled networks (Mastodon here; X, Bluesky and LinkedIn alike) a reply
    the citizen deleted stays answerable in Kanal forever, and its text is
    kept as if still public."""
    item = mastodon["item"]
    mastodon["sandbox"].control(
        "DELETE", f"/_sandbox/items/mastodon/{item.remote_id}")
    assert mastodon["sandbox"].item("mastodon", item.remote_id)["deleted_at"]
    polling.poll_channel(mastodon["channel"])
    item.refresh_from_db()
    assert item.deleted_on_network_at is not None


def test_finding_5_a_citizens_edit_on_a_polled_network_is_recorded(mastodon):
    """Finding 5: an edit of a polled item is never read again."""
    item = mastodon["item"]
    mastodon["sandbox"].control(
        "PATCH", f"/_sandbox/items/mastodon/{item.remote_id}",
        {"text": "@kbh glem det, jeg fandt svaret"})
    polling.poll_channel(mastodon["channel"])
    item.refresh_from_db()
    assert "glem det" in item.text
