"""OUTSIDE TESTER 4 (branch tester4): failing tests for moderation against
the sandbox. Each test names its finding (T4-N) in
/work/briefs/findings4.md."""

from __future__ import annotations

import contextlib

import pytest
from django.core.exceptions import ValidationError

from kanal.inbox import moderation
from kanal.inbox.models import OPEN_STATUSES, Conversation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("kind", ["delete", "hide"])
def test_t4_5_a_comment_already_gone_on_the_network_is_recorded_deleted(
    world, kind
):
    """T4-5: the citizen deleted the comment before Kanal polled. The
    editor deletes (or hides) it: Facebook answers "does not exist", and
    Kanal says "Netværket afviste det", leaves the item live and the
    conversation open and due, with a reply form for a comment that is not
    there. It should look the comment up (as it does after a 5xx), record
    it as deleted on the network and retime the conversation."""
    item, sandbox = world["item"], world["sandbox"]
    sandbox.control("DELETE", f"/_sandbox/items/facebook/{item.remote_id}")
    with contextlib.suppress(ValidationError):
        moderation.moderate_item(item, actor=world["editor"], kind=kind,
                                 reason="spam")
    item.refresh_from_db()
    assert item.deleted_on_network_at is not None
    conversation = Conversation.objects.get(pk=item.conversation_id)
    assert conversation.status not in OPEN_STATUSES or conversation.due_at is None


@pytest.mark.parametrize("act", ["like", "hide"])
def test_t4_7_nothing_reaches_the_network_through_a_disabled_channel(
    world, member, act
):
    """T4-7: "Slået fra" is documented as "stop all use of a channel", and
    publishing's fence honours it, but a like, a hide or a delete from the
    inbox is sent with the channel's stored credentials all the same (a
    page handed over, or an account whose access was leaked and turned off
    for that reason). It should be refused in Danish and nothing sent."""
    from kanal.channels.actions import disable_channel
    from kanal.inbox import likes
    from kanal.organisations.roles import Role

    item, sandbox = world["item"], world["sandbox"]
    disable_channel(world["channel"], actor=member(Role.ADMIN), reason="Overdraget")
    item.refresh_from_db()
    with contextlib.suppress(ValidationError):
        if act == "like":
            likes.set_liked(item, actor=world["editor"])
        else:
            moderation.moderate_item(item, actor=world["editor"], kind="hide",
                                     reason="spam")
    stored = sandbox.item("facebook", item.remote_id)
    assert stored["data"].get("liked_by") in (None, [])
    assert stored["hidden"] is False
