"""One adapter factory for a channel: the editor, the channel page and the
worker get the same adapter, with the limits the network reported."""

from __future__ import annotations

import pytest
import respx

from kanal.channels import actions, adapters
from kanal.channels.networks.base import OutgoingPost
from kanal.channels.networks.mastodon import INSTANCE_CONFIGURATIONS
from kanal.channels.networks.tests.test_mastodon_adapter import instance_payload
from kanal.channels.tests.factories import ChannelFactory
from kanal.organisations.roles import Role

BASE = "https://social.example"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    INSTANCE_CONFIGURATIONS.clear()
    adapters._clients.clear()
    yield
    INSTANCE_CONFIGURATIONS.clear()
    adapters._clients.clear()


@pytest.fixture
def verified(member):
    """A Mastodon channel verified against an instance that allows 1,000
    characters."""
    admin = member(Role.ADMIN)
    channel = ChannelFactory(
        organisation=admin.organisation,
        owner_administration=admin.administration,
        network="mastodon",
        base_url=BASE,
    )
    with respx.mock(base_url=BASE, assert_all_called=True) as api:
        api.get("/api/v1/accounts/verify_credentials").respond(
            200, json={"id": "7", "acct": "kbh", "followers_count": 12}
        )
        api.get("/api/v2/instance").respond(200, json=instance_payload(1000))
        ok, message = actions.verify_channel_connection(channel, actor=admin)
    assert ok, message
    channel.refresh_from_db()
    return channel


def test_the_editor_counts_by_the_instance_limits_read_when_verifying(verified):
    from kanal.planning.validation import capabilities_for

    # The same process that verified: the limits must reach the editor's
    # adapter (it used to be built with another address and got 500).
    assert capabilities_for(verified).max_text_length == 1000


def test_stored_limits_reach_every_process(verified):
    from kanal.planning.validation import capabilities_for

    assert verified.network_limits["configuration"]["statuses"][
        "max_characters"
    ] == 1000
    INSTANCE_CONFIGURATIONS.clear()  # another process, or an hour later
    assert capabilities_for(verified).max_text_length == 1000
    worker = adapters.build_adapter(
        verified.connection(), channel_id=verified.pk,
        limits=verified.network_limits,
    )
    post = OutgoingPost(text="x" * 900)
    assert worker.validate(post) == []
    assert worker.validate(OutgoingPost(text="x" * 1001))


def test_the_instance_answer_wins_over_stored_limits(verified):
    from kanal.channels.networks.mastodon import MastodonAdapter

    adapter = adapters.adapter_for(verified)
    assert isinstance(adapter, MastodonAdapter)
    with respx.mock(base_url=BASE) as api:
        api.get("/api/v2/instance").respond(200, json=instance_payload(2000))
        adapter.load_instance_configuration(force=True)
    assert adapter.capabilities().max_text_length == 2000


def test_adapters_for_one_address_share_one_client(verified):
    first = adapters.adapter_for(verified, credentials=False)
    second = adapters.adapter_for(verified)
    assert first.client is second.client
    assert len(adapters._clients) == 1


def test_unreadable_stored_limits_fall_back_to_the_documented_ones(member):
    channel = ChannelFactory(
        network="mastodon", base_url=BASE, network_limits={"configuration": 5}
    )
    assert adapters.adapter_for(channel).capabilities().max_text_length == 500
