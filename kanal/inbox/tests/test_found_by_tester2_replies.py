"""OUTSIDE TESTER 2 (branch tester2): failing tests for answers from the
inbox through the engine, judged by the sandbox. Each test names its finding
in /work/briefs/findings2.md. They fail on main as of 39dbe77."""

from __future__ import annotations

import pytest

from kanal.inbox import actions, polling, replies, templating
from kanal.inbox.models import OPEN_STATUSES, InboxItem, StandardAnswer

from .test_replies import replies_on_network, run_follow_ups

pytestmark = pytest.mark.django_db(transaction=True)


def test_finding_10_a_referral_that_never_went_out_leaves_the_queue_open(world):
    """Finding 10: a referral marks the conversation *Henvist* when it is
    queued. When the engine then cannot send it (here the channel was
    switched off; a refusal or a give-up alike) nothing reaches the citizen,
    yet the conversation stays *Henvist*: out of the open list, never
    overdue. The same answer without a referral correctly stays open (the
    existing test_a_reply_that_the_network_refuses_...)."""
    from kanal.channels.models import ChannelStatus

    item, editor = world["item"], world["editor"]
    referral = actions.save_referral_template(
        actor=editor, title="Borgerservice",
        text="Hej {fornavn}. Borgerservice kan hjælpe: kk.dk/borgerservice.")
    replies.reply_to_item(item, actor=editor, referral=referral, key="t2-ref")
    type(world["channel"]).objects.filter(pk=world["channel"].pk).update(
        status=ChannelStatus.DISABLED)
    run_follow_ups()
    assert replies_on_network(world["sandbox"], item) == []
    item.conversation.refresh_from_db()
    assert item.conversation.status in OPEN_STATUSES


def test_finding_11_an_answer_sent_after_the_citizen_wrote_again_keeps_it_open(
    world
):
    """Finding 11: when the worker confirms an answer, the conversation is
    set to *Besvaret* whatever arrived meanwhile. The citizen's follow-up
    question, received after the answer was written and before it went out,
    is closed unseen: no target, no overdue notice."""
    item, sandbox = world["item"], world["sandbox"]
    replies.reply_to_item(item, actor=world["editor"], text="Kl. 10 i morgen.",
                          key="t2-answer")
    made = sandbox.citizen("facebook", "Og hvad koster det?",
                           parent_id=item.remote_id, author_name="Mette Hansen")
    polling.poll_channel(world["channel"])
    again = InboxItem.objects.get(remote_id=made["item_id"])
    assert again.conversation_id == item.conversation_id
    run_follow_ups()
    assert [r["text"] for r in replies_on_network(sandbox, item)
            ].count("Kl. 10 i morgen.") == 1
    item.conversation.refresh_from_db()
    assert item.conversation.status in OPEN_STATUSES


@pytest.mark.parametrize("name", [
    "@borgmester_kbh",  # a mention on X, Mastodon, Bluesky, Threads
    "https://svindel.example/gevinst",
    "#valgsvindel",
])
def test_finding_12_the_citizens_name_in_a_standard_answer_is_only_a_name(
    world, name
):
    """Finding 12: ``{fornavn}`` is the first word of the name the network
    sent, put into the municipality's public answer as it is. A citizen
    whose display name starts with a handle, a link or a hashtag makes the
    desk's standard answer mention someone else, link to a scam or tag a
    campaign from the municipality's account."""
    item = world["item"]
    InboxItem.objects.filter(pk=item.pk).update(author_name=f"{name} Hansen")
    item.refresh_from_db()
    answer = StandardAnswer(organisation=item.organisation, title="Tak",
                            text="Hej {fornavn}. Tak for din besked.")
    filled = templating.fill_standard_answer(answer, item)
    assert name not in filled, filled
