"""An answer queued for a comment the citizen deleted before it went out:
the network refuses the reply, Kanal asks it (``read_post``) whether the
comment is gone, and then records the comment as deleted, ends the answer as
not sent because the comment was deleted (no failure alarm), keeps its text,
and leaves the conversation needing no reply when nothing else in it waits."""

from __future__ import annotations

import pytest

from kanal.core.models import AuditEntry
from kanal.inbox import replies
from kanal.inbox.models import ConversationStatus, ItemVersion
from kanal.notifications.models import Notification
from kanal.publishing.models import FollowUp

from .test_replies import replies_on_network, run_follow_ups

pytestmark = pytest.mark.django_db(transaction=True)


def _citizen_deletes(world, item):
    world["sandbox"].control("DELETE", f"/_sandbox/items/facebook/{item.remote_id}")


def test_an_answer_to_a_comment_deleted_meanwhile_ends_as_not_needed(world, client):
    item, editor, sandbox = world["item"], world["editor"], world["sandbox"]
    answer = replies.reply_to_item(item, actor=editor, text="Kl. 10 i morgen.",
                                   key="gone-1")
    _citizen_deletes(world, item)
    run_follow_ups()
    assert replies_on_network(sandbox, item) == []
    follow_up = FollowUp.objects.get()
    assert follow_up.status == "failed"
    assert follow_up.error_kind == "reply_parent_gone"
    assert "slettet kommentaren" in follow_up.reason
    # No alarm: nobody has anything to do.
    assert not Notification.objects.filter(kind="reply_failed").exists()
    assert not Notification.objects.filter(kind="reply_parent_gone").exists()
    item.refresh_from_db()
    assert item.deleted_on_network_at is not None
    assert item.versions.filter(change=ItemVersion.Change.DELETED).count() == 1
    item.conversation.refresh_from_db()
    assert item.conversation.status == ConversationStatus.NO_REPLY
    assert item.conversation.due_at is None
    assert AuditEntry.objects.filter(event="inbox.reply.parent_gone").count() == 1
    answer.refresh_from_db()
    assert answer.text.startswith("Kl. 10 i morgen.")
    # The editor sees why, in Danish, with the answer's text.
    client.force_login(editor.user)
    page = client.get(f"/indbakke/{item.conversation_id}/")
    body = page.content.decode()
    assert "Kl. 10 i morgen." in body
    assert "borgeren har slettet kommentaren" in body


def test_an_answer_refused_for_a_comment_still_there_stays_a_failure(world):
    item, editor, sandbox = world["item"], world["editor"], world["sandbox"]
    sandbox.fault("facebook", "policy_block", operation="reply",
                  account=world["channel"].remote_id)
    replies.reply_to_item(item, actor=editor, text="Kl. 10.", key="still-there")
    run_follow_ups()
    follow_up = FollowUp.objects.get()
    assert follow_up.error_kind == "reply_failed"
    assert Notification.objects.filter(kind="reply_failed").count() == 1
    item.refresh_from_db()
    assert item.deleted_on_network_at is None
    item.conversation.refresh_from_db()
    assert item.conversation.status == ConversationStatus.NEW


def test_another_question_still_waiting_keeps_the_conversation_open(world):
    item, editor, sandbox = world["item"], world["editor"], world["sandbox"]
    from kanal.inbox import polling

    sandbox.citizen("facebook", "Og om søndagen?", parent_id=item.remote_id,
                    author_name="Mette Hansen", account=world["channel"].remote_id)
    polling.poll_channel(world["channel"])
    replies.reply_to_item(item, actor=editor, text="Kl. 10.", key="gone-2")
    _citizen_deletes(world, item)
    run_follow_ups()
    assert FollowUp.objects.get().error_kind == "reply_parent_gone"
    item.conversation.refresh_from_db()
    assert item.conversation.status == ConversationStatus.NEW
    assert item.conversation.due_at is not None


@pytest.mark.parametrize("network", ["x", "mastodon", "bluesky", "linkedin",
                                     "threads"])
def test_each_network_s_refusal_of_a_reply_to_a_deleted_comment(
        network, sandbox, organisation, member):
    """Each network says "gone" its own way (X's 404 or 403, Mastodon's and
    LinkedIn's 404, Bluesky's RecordNotFound, Threads' Graph code; Facebook
    above; Instagram's is Facebook's Graph)."""
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost
    from kanal.inbox import polling
    from kanal.inbox.models import InboxItem
    from kanal.organisations.roles import Role
    from kanal.publishing.tests.conftest import sandbox_channel

    channel = sandbox_channel(sandbox, organisation, network)
    post = adapter_for(channel).publish(OutgoingPost(text="Havnebadet åbner"),
                                        idempotency_key="post-1")
    made = sandbox.citizen(network, "Hvornår åbner det?", parent_id=post.remote_id,
                           author_name="Mette Hansen", account=channel.remote_id)
    polling.poll_channel(channel)
    item = InboxItem.objects.get(remote_id=made["item_id"])
    replies.reply_to_item(item, actor=member(Role.EDITOR), text="Kl. 10.",
                          key=f"gone-{network}")
    sandbox.control("DELETE", f"/_sandbox/items/{network}/{item.remote_id}")
    run_follow_ups()
    assert FollowUp.objects.get().error_kind == "reply_parent_gone"
    item.refresh_from_db()
    assert item.deleted_on_network_at is not None
    item.conversation.refresh_from_db()
    assert item.conversation.status == ConversationStatus.NO_REPLY
