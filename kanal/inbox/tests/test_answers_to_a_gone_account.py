"""An answer to a direct message whose citizen has no account on the network
any more (deleted meanwhile): the network says so its own way (Messenger's
and Instagram's "No matching user found", X's "not a valid user"), and the
answer ends not sent, with "findes ikke længere på netværket", never tried
again and no alarm; the conversation needs no reply (G3-2)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kanal.core.models import AuditEntry
from kanal.inbox import polling, replies
from kanal.inbox.models import ConversationStatus, InboxItem
from kanal.notifications.models import Notification
from kanal.publishing.models import FollowUp
from kanal.publishing.tests.conftest import (  # noqa: F401 (fixture)
    sandbox_channel,
    short_timeout,
)

from .factories import post_answer
from .test_message_answers import due_again, messages_on, run_follow_ups

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sandbox]


def _account_deleted(sandbox, item):
    """The citizen deletes their account: the network forgets their
    messages and knows them no more."""
    theirs = [i for i in sandbox.control("GET", "/_sandbox/items", params={
        "network": item.network, "kind": "message"})
        if i["author_id"] == item.author_id]
    assert theirs
    for found in theirs:
        sandbox.control("DELETE",
                        f"/_sandbox/items/{item.network}/{found['item_id']}")


@pytest.mark.parametrize("network", ["facebook", "instagram", "x"])
def test_an_answer_to_a_deleted_account_ends_not_sent_and_not_needed(
    sandbox, dm_world, client_for, network
):
    world = dm_world(network)
    item, editor = world["item"], world["editor"]
    client = client_for(editor)
    post_answer(client, item, "Borgerservice har åbent kl. 10-16.", key="gone-dm")
    _account_deleted(sandbox, item)
    run_follow_ups()
    follow_up = FollowUp.objects.get()
    assert (follow_up.status, follow_up.error_kind) == (
        "failed", "reply_recipient_gone")
    assert "konto ikke findes længere på netværket" in follow_up.last_error
    assert messages_on(sandbox, world["channel"]) == []
    # Never tried again.
    due_again()
    assert run_follow_ups() == []
    # Nobody is alarmed: there is nothing to do.
    assert not Notification.objects.filter(kind="reply_failed").exists()
    conversation = item.conversation
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.NO_REPLY
    assert conversation.due_at is None
    assert AuditEntry.objects.filter(event="inbox.reply.recipient_gone").count() == 1
    assert AuditEntry.objects.filter(
        event="publishing.message.recipient_gone").count() == 1
    # The editor sees why, in Danish, with the answer's text; no error page.
    page = client.get(f"/indbakke/{conversation.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Borgerservice har åbent kl. 10-16." in body
    assert "findes længere på netværket" in body
    # A new answer to the same citizen is refused at once, nothing queued.
    response = post_answer(client, item, "Hej igen.", key="gone-dm-2")
    assert response.status_code == 400
    assert "findes ikke længere på netværket" in response.content.decode()
    assert FollowUp.objects.count() == 1


def test_a_citizen_who_writes_again_can_be_answered_again(sandbox, dm_world):
    world = dm_world("facebook")
    item, editor = world["item"], world["editor"]
    replies.reply_to_item(item, actor=editor, text="Hej.", key="gone-a")
    _account_deleted(sandbox, item)
    run_follow_ups()
    with pytest.raises(ValidationError, match="findes ikke længere"):
        replies.reply_to_item(item, actor=editor, text="Hej.", key="gone-b")
    sandbox.control("POST", "/_sandbox/citizens/item", {
        "network": "facebook", "kind": "message",
        "account": world["channel"].remote_id, "text": "Er I der?",
        "author_id": item.author_id, "author_name": "Ida Holm"})
    polling.poll_channel(world["channel"])
    newest = InboxItem.objects.filter(kind="message").order_by("-pk").first()
    assert newest.pk != item.pk
    replies.reply_to_item(newest, actor=editor, text="Ja.", key="gone-c")
    run_follow_ups()
    assert FollowUp.objects.get(idempotency_key="gone-c").status == "done"


def test_a_messenger_refusal_of_a_citizen_still_there_stays_a_failure(
    sandbox, dm_world
):
    """A refusal for another reason (the 24-hour window) is a failure the
    editor is told about, never "gone"."""
    world = dm_world("facebook")
    sandbox.advance_clock(25 * 3600)
    replies.reply_to_item(world["item"], actor=world["editor"], text="Hej.",
                          key="still-there")
    run_follow_ups()
    assert FollowUp.objects.get().error_kind == "reply_failed"
    world["item"].conversation.refresh_from_db()
    assert world["item"].conversation.status == ConversationStatus.NEW
