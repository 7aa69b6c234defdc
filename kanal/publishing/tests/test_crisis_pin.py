"""A crisis message is pinned where the network allows, through the engine and
the sandbox."""

from __future__ import annotations

import pytest

from kanal.organisations.roles import Role
from kanal.publishing import actions
from kanal.publishing.models import Publication, PublicationStatus

from .conftest import run_once

S = PublicationStatus
pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]


def test_crisis_message_on_mastodon_ends_up_pinned(sandbox, organisation, member):
    from kanal.channels import vault
    from kanal.channels.networks.tests.test_contract_mastodon import (
        TestMastodonContract,
    )
    from kanal.channels.tests.factories import ChannelFactory

    contract = TestMastodonContract()
    account = sandbox.provision("mastodon", **contract.provision_options())
    conn = contract.make_connection(sandbox, account)
    channel = ChannelFactory(
        organisation=organisation, network="mastodon", base_url=conn.base_url,
        remote_id=conn.account_id, handle=conn.handle,
        api_settings=dict(conn.settings),
        encrypted_credentials=vault.encrypt(dict(conn.credentials)),
    )
    lead = member(Role.CRISIS_LEAD)
    text = "Brand på Amager. Hold vinduer og døre lukket. Følg kk.dk for nyt."

    [pub] = actions.publish_crisis_message(
        actor=lead, organisation=lead.organisation, text=text,
        channels=[channel], confirmed=True,
    )

    assert pub.pin is True
    assert run_once() == [S.PUBLISHED]
    pub = Publication.objects.get(pk=pub.pk)
    stored = sandbox.item("mastodon", pub.remote_id)
    assert stored["text"] == text
    assert stored["data"]["pinned"] is True
