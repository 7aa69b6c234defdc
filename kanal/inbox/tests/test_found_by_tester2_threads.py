"""OUTSIDE TESTER 2 (branch tester2): failing tests for how items are grouped
into conversations, judged by the sandbox. Each test names its finding in
/work/briefs/findings2.md. They fail on main as of 39dbe77."""

from __future__ import annotations

import pytest

from kanal.inbox import polling, replies
from kanal.inbox.models import InboxItem
from kanal.organisations.roles import Role
from kanal.publishing.models import FollowUp
from kanal.publishing.tests.conftest import sandbox_channel

from .test_replies import run_follow_ups

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("network", ["mastodon", "x", "bluesky"])
def test_finding_17_the_citizens_answer_to_the_desks_reply_joins_the_thread(
    sandbox, organisation, member, network
):
    """Finding 17: a citizen who answers the desk's reply starts a new
    conversation: the item's parent is the desk's own reply, which Kanal
    never stores as an item, so ``conversation_key`` falls back to a key of
    its own. The follow-up question arrives without the history, the old
    conversation stays *Besvaret*, and the response time is measured
    twice."""
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost

    channel = sandbox_channel(sandbox, organisation, network)
    post = adapter_for(channel).publish(OutgoingPost(text="Havnebadet åbner"),
                                        idempotency_key=f"t2-{network}")
    first = sandbox.citizen(network, "Hvornår åbner havnebadet?",
                            parent_id=post.remote_id, author_name="Mette")
    polling.poll_channel(channel)
    asked = InboxItem.objects.get(channel=channel, remote_id=first["item_id"])
    replies.reply_to_item(asked, actor=member(Role.EDITOR), text="Kl. 10.",
                          key=f"t2-thread-{network}")
    run_follow_ups()
    answer_id = FollowUp.objects.get().remote_id
    assert answer_id
    again = sandbox.citizen(network, "Og hvad koster det?", parent_id=answer_id,
                            author_name="Mette")
    polling.poll_channel(channel)
    follow_up = InboxItem.objects.get(channel=channel, remote_id=again["item_id"])
    assert follow_up.conversation_id == asked.conversation_id
