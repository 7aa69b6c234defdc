"""A channel whose account may not read direct messages (Meta's
pages_messaging / instagram_manage_messages, X's dm.read, a Bluesky app
password without chat access): the desk is told once, the channel's pages
say so, and both clear when the permission comes back. On the sandbox."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kanal.inbox import polling
from kanal.inbox.models import InboxItem, PollCursor
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role
from kanal.publishing.tests.conftest import sandbox_channel

pytestmark = pytest.mark.django_db(transaction=True)

#: Where each network lists direct messages, and the permission it lacks.
MESSAGES = {
    "facebook": ("*/conversations", "pages_messaging"),
    "instagram": ("*/conversations", "instagram_business_manage_messages"),
    "x": ("/2/dm_events", "dm.read"),
    "bluesky": ("chat.bsky.convo.listConvos", "com.atproto.appPassPrivileged"),
}


def citizen_writes(sandbox, network, channel, text):
    sandbox.control("POST", "/_sandbox/citizens/item", {
        "network": network, "kind": "message", "account": channel.remote_id,
        "text": text, "author_id": "citizen-ida", "author_name": "Ida Holm"})


@pytest.mark.parametrize("network", sorted(MESSAGES))
def test_a_channel_without_the_messages_permission_tells_its_desk_once(
    sandbox, organisation, member, client_for, network
):
    path, permission = MESSAGES[network]
    admin = member(Role.ADMIN)
    channel = sandbox_channel(sandbox, organisation, network)
    citizen_writes(sandbox, network, channel, "Må jeg spørge om noget?")
    sandbox.fault(network, "missing_permission", operation="inbox", path=path,
                  count=None)

    polling.poll_channel(channel)
    polling.poll_channel(channel)  # and again: still one notification

    cursor = PollCursor.objects.get(channel=channel)
    assert cursor.last_error == ""  # the rest of the inbox was read
    assert cursor.messages_denied == permission
    assert cursor.messages_denied_since is not None
    assert not InboxItem.objects.filter(channel=channel, kind="message").exists()
    [told] = Notification.objects.filter(kind="inbox_messages_denied")
    assert told.recipient == admin and told.read_at is None
    assert permission in told.message
    client = client_for(admin)
    listing = client.get(reverse("channel_list")).content.decode()
    assert "Private beskeder" in listing and permission in listing
    page = client.get(reverse("channel_detail", args=[channel.pk]))
    assert permission in page.content.decode()

    sandbox.clear_faults(network)
    polling.poll_channel(channel)

    cursor.refresh_from_db()
    assert (cursor.messages_denied, cursor.messages_denied_since) == ("", None)
    assert InboxItem.objects.filter(channel=channel, kind="message").count() == 1
    told.refresh_from_db()
    assert told.read_at is not None  # cleared
    assert "Private beskeder" not in client.get(
        reverse("channel_list")).content.decode()
    assert Notification.objects.filter(kind="inbox_messages_denied").count() == 1
