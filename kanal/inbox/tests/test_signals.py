"""The inbox announces what happened (the records app listens)."""

from __future__ import annotations

import pytest

from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox import intake, signals

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def heard():
    events = []

    def listen(name):
        def receiver(sender, **kwargs):
            events.append((name, kwargs))
        return receiver

    receivers = {name: listen(name) for name in
                 ("received", "changed", "reply_sent", "moderated")}
    signals.item_received.connect(receivers["received"])
    signals.item_changed.connect(receivers["changed"])
    signals.reply_sent.connect(receivers["reply_sent"])
    signals.item_moderated.connect(receivers["moderated"])
    yield events
    signals.item_received.disconnect(receivers["received"])
    signals.item_changed.disconnect(receivers["changed"])
    signals.reply_sent.disconnect(receivers["reply_sent"])
    signals.item_moderated.disconnect(receivers["moderated"])


def test_received_once_and_changed_on_an_edit_and_a_deletion(organisation, heard):
    from django.utils import timezone

    channel = ChannelFactory(organisation=organisation)

    def item(text):
        return NetworkItem(remote_id="c1", kind="comment", author_id="a",
                           author_name="A", text=text, created_at=timezone.now())

    intake.ingest(channel, item("Første"))
    intake.ingest(channel, item("Første"))
    intake.ingest(channel, item("Rettet"), action="edited")
    intake.ingest(channel, item(""), action="remove")
    names = [(name, kwargs.get("change")) for name, kwargs in heard]
    assert names == [("received", None), ("changed", "edited"),
                     ("changed", "deleted")]
    assert heard[0][1]["item"].remote_id == "c1"


def test_moderation_and_a_sent_reply_are_announced(sandbox, organisation, member,
                                                   heard):
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost
    from kanal.inbox import moderation, polling, replies
    from kanal.inbox.models import InboxItem
    from kanal.organisations.roles import Role
    from kanal.publishing.tests.conftest import sandbox_channel

    from .test_replies import run_follow_ups

    channel = sandbox_channel(sandbox, organisation, "facebook")
    post = adapter_for(channel).publish(OutgoingPost(text="Hej"),
                                        idempotency_key="p-s")
    sandbox.citizen("facebook", "Spørgsmål", parent_id=post.remote_id)
    polling.poll_channel(channel)
    item = InboxItem.objects.get()
    editor = member(Role.EDITOR)
    replies.reply_to_item(item, actor=editor, text="Svar", key="s-1")
    run_follow_ups()
    moderation.moderate_item(item, actor=editor, kind="hide", reason="spam")
    names = [name for name, _ in heard]
    assert names == ["received", "reply_sent", "moderated"]
    sent = heard[1][1]
    assert sent["item"] == item and sent["remote_id"]
    assert heard[2][1]["reason"] == "spam" and heard[2][1]["action"] == "hide"
