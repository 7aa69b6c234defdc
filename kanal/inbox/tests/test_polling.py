"""Polling each network's inbox with a stored cursor, against the sandbox."""

from __future__ import annotations

import importlib

import pytest

from kanal.channels import vault
from kanal.channels.adapters import adapter_for
from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox import polling
from kanal.inbox.models import InboxItem, PollCursor
from kanal.publishing.tests.conftest import CONTRACTS

pytestmark = pytest.mark.django_db(transaction=True)

NETWORKS = ["x", "mastodon", "bluesky", "linkedin", "facebook", "instagram",
            "threads"]


def contract_for(network):
    module = importlib.import_module(
        f"kanal.channels.networks.tests.test_contract_{network}")
    return getattr(module, CONTRACTS[network])()


@pytest.mark.parametrize("network", NETWORKS)
def test_polling_stores_new_items_once_and_keeps_the_cursor(
    sandbox, organisation, network
):
    contract = contract_for(network)
    account = sandbox.provision(network, **contract.provision_options())
    conn = contract.make_connection(sandbox, account)
    channel = ChannelFactory(
        organisation=organisation, network=network, base_url=conn.base_url,
        remote_id=conn.account_id, handle=conn.handle,
        api_settings=dict(conn.settings),
        encrypted_credentials=vault.encrypt(dict(conn.credentials)),
    )
    post = contract.publish(sandbox, adapter_for(channel))
    contract.make_comment(sandbox, account, post.remote_id,
                          f"Er der åbent i weekenden? ({network})")

    polling.poll_channel(channel)
    cursor = PollCursor.objects.get(channel=channel)
    assert cursor.last_error == ""
    assert cursor.cursor  # stored for next time
    first = InboxItem.objects.get(channel=channel)
    assert first.text == f"Er der åbent i weekenden? ({network})"
    assert first.post_remote_id in ("", post.remote_id)

    contract.make_comment(sandbox, account, post.remote_id, "Tak for svar")
    polling.poll_channel(channel)
    assert InboxItem.objects.filter(channel=channel).count() == 2
    assert PollCursor.objects.get(channel=channel).cursor

    # Reading the whole history again (a lost cursor) counts nothing twice.
    PollCursor.objects.filter(channel=channel).update(cursor="")
    polling.poll_channel(channel)
    assert InboxItem.objects.filter(channel=channel).count() == 2


def test_a_failed_poll_keeps_the_cursor_and_says_why(sandbox, organisation):
    contract = contract_for("mastodon")
    account = sandbox.provision("mastodon", **contract.provision_options())
    conn = contract.make_connection(sandbox, account)
    channel = ChannelFactory(
        organisation=organisation, network="mastodon", base_url=conn.base_url,
        remote_id=conn.account_id, handle=conn.handle,
        encrypted_credentials=vault.encrypt(dict(conn.credentials)),
    )
    PollCursor.objects.create(channel=channel, cursor="kept-cursor")
    sandbox.expire_token("mastodon", conn.credentials["access_token"])
    polling.poll_channel(channel)
    cursor = PollCursor.objects.get(channel=channel)
    assert cursor.cursor == "kept-cursor"
    assert cursor.last_error
    assert cursor.last_polled_at is not None


def test_only_due_channels_are_polled(organisation):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    fresh = ChannelFactory(organisation=organisation, network="x")
    stale = ChannelFactory(organisation=organisation, network="facebook")
    never = ChannelFactory(organisation=organisation, network="mastodon")
    PollCursor.objects.create(channel=fresh, last_polled_at=now - timedelta(seconds=5))
    PollCursor.objects.create(channel=stale, last_polled_at=now - timedelta(hours=1))
    due = {c.pk for c in polling.due_channels(now)}
    assert due == {stale.pk, never.pk}
    assert polling.poll_due_channels(now=now, dry_run=True) == 2


def test_a_young_item_due_for_its_read_back_is_not_starved_by_old_ones(
    organisation,
):
    """A young item's wait is short, so it is due again long before the old
    items read before it: the read-back picks the overdue ones, not the ones
    read longest ago (more than 50 items in a week hid the young ones)."""
    from datetime import timedelta

    from django.utils import timezone

    from kanal.channels.networks.base import PostState
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.inbox import polling
    from kanal.inbox.intake import Outcome
    from kanal.inbox.models import InboxItem

    from .factories import citizen_item

    now = timezone.now()
    channel = ChannelFactory(organisation=organisation, network="mastodon")
    for n in range(60):  # three days old, read two hours ago: due in 1.5 days
        old = citizen_item(channel, f"Gammel {n}", at=now - timedelta(days=3))
        InboxItem.objects.filter(pk=old.pk).update(
            network_checked_at=now - timedelta(hours=2))
    young = citizen_item(channel, "Hvornår åbner badet?",
                         at=now - timedelta(minutes=30))
    # Read 16 minutes ago, at 14 minutes old: due after 15 (half its age).
    InboxItem.objects.filter(pk=young.pk).update(
        network_checked_at=now - timedelta(minutes=16))

    class Network:
        read = []

        def read_post(self, remote_id):
            self.read.append(remote_id)
            return PostState(remote_id, text="Hvornår åbner havnebadet?")

    network = Network()
    assert polling.recheck(channel, network, now=now, outcome=Outcome()) == 1
    assert network.read == [young.remote_id]
    young.refresh_from_db()
    assert young.text == "Hvornår åbner havnebadet?"
