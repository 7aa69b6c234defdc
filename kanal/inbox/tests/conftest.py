from __future__ import annotations

import json

import pytest
from django.conf import settings

from kanal.channels.networks import graph


@pytest.fixture
def facebook_channel(organisation):
    from kanal.channels.tests.factories import ChannelFactory

    return ChannelFactory(organisation=organisation, network="facebook",
                          remote_id="104738291045678")


@pytest.fixture
def meta_channels(organisation):
    """A Facebook page, an Instagram account and a Threads account (the
    Meta webhook paths' page ids and handles)."""
    from kanal.channels.tests.factories import ChannelFactory

    return {
        "facebook": ChannelFactory(organisation=organisation, network="facebook",
                                   remote_id="P1", handle="kbhkommune"),
        "instagram": ChannelFactory(organisation=organisation,
                                    network="instagram", remote_id="IG1",
                                    handle="kbh.kommune"),
        "threads": ChannelFactory(organisation=organisation, network="threads",
                                  remote_id="TH1", handle="kbh_kommune"),
    }


@pytest.fixture
def desk(organisation, member):
    """Three administrations, a Facebook page (the webhooks' page id) owned
    by KFF, an editor, contributors in BUF and TMF, and an analyst."""
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.organisations.roles import Role
    from kanal.organisations.tests.factories import AdministrationFactory

    kff = AdministrationFactory(organisation=organisation, code="KFF")
    buf = AdministrationFactory(organisation=organisation, code="BUF")
    tmf = AdministrationFactory(organisation=organisation, code="TMF")
    channel = ChannelFactory(organisation=organisation, owner_administration=kff,
                             network="facebook", remote_id="104738291045678")
    return {
        "channel": channel, "kff": kff, "buf": buf, "tmf": tmf,
        "editor": member(Role.EDITOR, administration=kff),
        "buf_contributor": member(Role.CONTRIBUTOR, administration=buf),
        "tmf_contributor": member(Role.CONTRIBUTOR, administration=tmf),
        "analyst": member(Role.ANALYST, administration=kff),
    }


@pytest.fixture
def post_webhook(client):
    """``post_webhook(network, payload_or_bytes, secret=..., path=...)``."""

    def post(network, payload, *, secret=None, path=None, signature=True,
             content_type="application/json"):
        body = payload if isinstance(payload, bytes) else json.dumps(
            payload, ensure_ascii=False).encode()
        headers = {}
        if signature:
            headers["HTTP_X_HUB_SIGNATURE_256"] = graph.sign(
                secret or settings.KANAL_META_APP_SECRET, body)
        return client.generic("POST", path or f"/webhooks/{network}/", body,
                              content_type=content_type, **headers)

    return post


@pytest.fixture
def deliver(post_webhook, facebook_channel):
    """``deliver(*bodies)``: each Facebook webhook body posted signed, in
    turn, to the desk's page (``facebook_channel``), then processed as the
    worker does."""
    from kanal.inbox import intake

    def deliver_(*bodies):
        for body in bodies:
            assert post_webhook("facebook", body).status_code == 200
        intake.process_deliveries()

    return deliver_


def fb_comment(comment_id="104738291045678_1", *, text="Hvornår åbner det?",
               verb="add", page="104738291045678", post="104738291045678_9",
               parent="", created=1_780_000_000, when=None, author="c-1"):
    value = {
        "from": {"id": author, "name": "Mette Hansen"},
        "post_id": post, "comment_id": comment_id, "message": text,
        "created_time": created, "item": "comment", "verb": verb,
        "parent_id": parent or post,
    }
    return {"object": "page", "entry": [{
        "id": page, "time": when or created,
        "changes": [{"field": "feed", "value": value}],
    }]}


@pytest.fixture
def world(sandbox, organisation, member):
    """A Facebook channel on the sandbox with one post, a citizen's comment
    on it polled into the inbox, and an editor (the replies' tests)."""
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost
    from kanal.inbox import polling
    from kanal.inbox.models import InboxItem
    from kanal.organisations.roles import Role
    from kanal.publishing.tests.conftest import sandbox_channel

    channel = sandbox_channel(sandbox, organisation, "facebook")
    post = adapter_for(channel).publish(OutgoingPost(text="Havnebadet åbner"),
                                        idempotency_key="post-1")
    account = channel.remote_id
    made = sandbox.citizen("facebook", "Hvornår åbner det?",
                           parent_id=post.remote_id, author_name="Mette Hansen",
                           account=account)
    polling.poll_channel(channel)
    item = InboxItem.objects.get(remote_id=made["item_id"])
    editor = member(Role.EDITOR)
    return {"channel": channel, "item": item, "editor": editor,
            "post": post, "sandbox": sandbox}


@pytest.fixture
def on_sandbox(sandbox, organisation, member):
    """A Facebook channel on the sandbox with one post, an editor, and
    ``comment(text, author=..., parent=...)``: a citizen's comment on the
    post (or on ``parent``) on the network, returning its id (moderation's
    tests)."""
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost
    from kanal.organisations.roles import Role
    from kanal.publishing.tests.conftest import sandbox_channel

    channel = sandbox_channel(sandbox, organisation, "facebook")
    post = adapter_for(channel).publish(OutgoingPost(text="Kulturnat"),
                                        idempotency_key="post-m")
    editor = member(Role.EDITOR)

    def comment(text, author="Omar Khan", parent=None):
        made = sandbox.control("POST", "/_sandbox/citizens/item", {
            "network": "facebook", "text": text,
            "parent_id": parent or post.remote_id,
            "author_name": author, "author_id": f"id-{author}"})
        return made["item_id"]

    return {"channel": channel, "editor": editor, "comment": comment,
            "sandbox": sandbox, "post": post}


@pytest.fixture
def dm_world(sandbox, organisation, member):
    """``dm_world(network)``: a channel on the sandbox with one citizen's
    direct message polled into the inbox, and an editor (the message
    answers' tests)."""
    from kanal.inbox import polling
    from kanal.inbox.models import InboxItem
    from kanal.organisations.roles import Role
    from kanal.publishing.tests.conftest import sandbox_channel

    def make(network, text="Hvornår har borgerservice åbent?"):
        channel = sandbox_channel(sandbox, organisation, network)
        sandbox.control("POST", "/_sandbox/citizens/item", {
            "network": network, "kind": "message", "account": channel.remote_id,
            "text": text, "author_id": "citizen-ida", "author_name": "Ida Holm"})
        polling.poll_channel(channel)
        item = InboxItem.objects.get(channel=channel, kind="message")
        return {"channel": channel, "item": item, "editor": member(Role.EDITOR)}
    return make
