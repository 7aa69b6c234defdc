"""A channel's health: "Test forbindelsen" against the emulators, and the
tokens a network renews in passing (not audit-worthy)."""

from __future__ import annotations

import pytest

from kanal.channels import actions, credentials
from kanal.channels.models import ChannelStatus
from kanal.channels.networks.base import TokenSet
from kanal.core.models import AuditEntry
from kanal.organisations.roles import Role

pytestmark = pytest.mark.django_db


def sandbox_channel(sandbox, organisation, network, **fields):
    from kanal.channels import vault
    from kanal.channels.networks.tests.test_contract_mastodon import (
        TestMastodonContract,
    )
    from kanal.channels.tests.factories import ChannelFactory

    assert network == "mastodon"
    contract = TestMastodonContract()
    account = sandbox.provision(network, **contract.provision_options())
    conn = contract.make_connection(sandbox, account)
    return ChannelFactory(
        organisation=organisation, network=network, base_url=conn.base_url,
        remote_id=conn.account_id, handle=conn.handle,
        encrypted_credentials=vault.encrypt(dict(conn.credentials)), **fields,
    )


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_a_temporary_error_on_test_connection_changes_nothing(sandbox, member):
    admin = member(Role.ADMIN)
    channel = sandbox_channel(sandbox, admin.organisation, "mastodon",
                              owner_administration=admin.administration)
    sandbox.fault("mastodon", "server_error", operation="verify",
                  account=channel.remote_id)
    ok, message = actions.verify_channel_connection(channel, actor=admin)
    assert not ok
    assert "midlertidigt" in message and "uændret" in message
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.CONNECTED
    assert channel.last_error == ""
    # Once the network answers, the test passes.
    ok, message = actions.verify_channel_connection(channel, actor=admin)
    assert ok, message


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_refused_access_on_test_connection_needs_reconnection(sandbox, member):
    admin = member(Role.ADMIN)
    channel = sandbox_channel(sandbox, admin.organisation, "mastodon",
                              owner_administration=admin.administration)
    sandbox.fault("mastodon", "expired_token", operation="verify",
                  account=channel.remote_id)
    ok, message = actions.verify_channel_connection(channel, actor=admin)
    assert not ok
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert channel.last_error == message


def test_session_tokens_renewed_in_passing_are_stored_without_audit_entries(member):
    from kanal.channels.tests.factories import ChannelFactory

    admin = member(Role.ADMIN)
    channel = ChannelFactory(organisation=admin.organisation, network="bluesky")
    before = AuditEntry.objects.count()
    for n in range(3):
        credentials.record_session_tokens(
            channel.pk, TokenSet(access_token=f"jwt-{n}", refresh_token=f"r-{n}")
        )
    channel.refresh_from_db()
    assert channel.credentials()["access_token"] == "jwt-2"
    assert channel.credentials()["refresh_token"] == "r-2"
    assert AuditEntry.objects.count() == before


def test_a_person_changing_credentials_is_still_audited(member):
    from kanal.channels.tests.factories import ChannelFactory

    admin = member(Role.ADMIN)
    channel = ChannelFactory(organisation=admin.organisation, network="bluesky",
                             owner_administration=admin.administration)
    actions.set_channel_credentials(channel, actor=admin,
                                    credentials={"app_password": "abcd-efgh"})
    entry = AuditEntry.objects.get(event="channels.channel.credentials_changed")
    assert entry.changes["secrets"] == ["app_password"]


def test_the_same_session_handed_back_is_not_written_again(member):
    from kanal.channels.tests.factories import ChannelFactory

    admin = member(Role.ADMIN)
    channel = ChannelFactory(organisation=admin.organisation, network="bluesky")
    credentials.record_session_tokens(
        channel.pk, TokenSet(access_token="jwt-1", refresh_token="r-1")
    )
    channel.refresh_from_db()
    stored, updated = channel.encrypted_credentials, channel.updated_at
    credentials.record_session_tokens(
        channel.pk, TokenSet(access_token="jwt-1", refresh_token="r-1")
    )
    channel.refresh_from_db()
    assert channel.encrypted_credentials == stored
    assert channel.updated_at == updated
