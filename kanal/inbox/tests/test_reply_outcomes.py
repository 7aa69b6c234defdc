"""What an answer's outcome does to its conversation: only an answer that
went out settles it, and never one the citizen wrote past (findings 10 and
11 of the second outside tester, the wider class)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kanal.core.models import AuditEntry
from kanal.inbox import actions, polling, replies, targets
from kanal.inbox.models import InboxItem

from .test_replies import replies_on_network, run_follow_ups

pytestmark = pytest.mark.django_db(transaction=True)


def _referral(editor):
    return actions.save_referral_template(
        actor=editor, title="Borgerservice",
        text="Hej {fornavn}. Borgerservice kan hjælpe: kk.dk/borgerservice.")


def test_a_referral_the_network_refuses_leaves_the_conversation_open(world):
    item, editor, sandbox = world["item"], world["editor"], world["sandbox"]
    sandbox.fault("facebook", "policy_block", operation="reply",
                  account=world["channel"].remote_id)
    replies.reply_to_item(item, actor=editor, referral=_referral(editor),
                          key="refused-ref")
    run_follow_ups()
    assert replies_on_network(sandbox, item) == []
    item.conversation.refresh_from_db()
    assert item.conversation.status == "new"
    assert not AuditEntry.objects.filter(
        event="inbox.conversation.referred").exists()


def test_a_referral_that_went_out_is_audited_with_who_referred(world):
    item, editor = world["item"], world["editor"]
    replies.reply_to_item(item, actor=editor, referral=_referral(editor),
                          key="sent-ref")
    assert not AuditEntry.objects.filter(
        event="inbox.conversation.referred").exists()
    run_follow_ups()
    item.conversation.refresh_from_db()
    assert item.conversation.status == "referred"
    entry = AuditEntry.objects.get(event="inbox.conversation.referred")
    assert entry.changes["status"] == ["new", "referred"]


def test_a_referral_sent_after_the_citizen_wrote_again_keeps_it_open(world):
    item, editor, sandbox = world["item"], world["editor"], world["sandbox"]
    replies.reply_to_item(item, actor=editor, referral=_referral(editor),
                          key="late-ref")
    sandbox.citizen("facebook", "Og hvornår har de åbent?",
                    parent_id=item.remote_id, author_name="Mette Hansen")
    polling.poll_channel(world["channel"])
    run_follow_ups()
    item.conversation.refresh_from_db()
    assert item.conversation.status == "new"


def test_the_follow_up_question_is_due_by_its_own_time_and_its_answer_closes_it(
    world
):
    item, editor, sandbox = world["item"], world["editor"], world["sandbox"]
    replies.reply_to_item(item, actor=editor, text="Kl. 10.", key="first")
    made = sandbox.citizen("facebook", "Og hvad koster det?",
                           parent_id=item.remote_id, author_name="Mette Hansen")
    polling.poll_channel(world["channel"])
    again = InboxItem.objects.get(remote_id=made["item_id"])
    run_follow_ups()
    conversation = item.conversation
    conversation.refresh_from_db()
    assert conversation.status == "new"
    assert conversation.first_response_at is not None
    assert conversation.due_at == targets.due_at(
        again.created_at, targets.settings_for(conversation.organisation_id))
    # The desk answers the new question: now nothing waits.
    replies.reply_to_item(again, actor=editor, text="50 kr.", key="second")
    run_follow_ups()
    conversation.refresh_from_db()
    assert conversation.status == "answered"


def test_a_follow_up_the_citizen_deleted_does_not_keep_it_open(world):
    item, editor, sandbox = world["item"], world["editor"], world["sandbox"]
    replies.reply_to_item(item, actor=editor, text="Kl. 10.", key="first")
    made = sandbox.citizen("facebook", "Ups, forkert tråd",
                           parent_id=item.remote_id, author_name="Mette Hansen")
    polling.poll_channel(world["channel"])
    from django.utils import timezone

    InboxItem.objects.filter(remote_id=made["item_id"]).update(
        deleted_on_network_at=timezone.now())
    run_follow_ups()
    item.conversation.refresh_from_db()
    assert item.conversation.status == "answered"


def test_re_timing_counts_from_the_question_after_the_answer_that_went_out(world):
    """``retime_open`` reads each conversation's oldest unanswered item in
    its one query by the same rule as ``Conversation.unanswered_items``."""
    item, editor, sandbox = world["item"], world["editor"], world["sandbox"]
    replies.reply_to_item(item, actor=editor, text="Kl. 10.", key="first")
    run_follow_ups()
    made = sandbox.citizen("facebook", "Og hvad koster det?",
                           parent_id=item.remote_id, author_name="Mette Hansen")
    polling.poll_channel(world["channel"])
    again = InboxItem.objects.get(remote_id=made["item_id"])
    conversation = item.conversation
    conversation.refresh_from_db()
    settings_row = targets.settings_for(conversation.organisation_id)
    type(conversation).objects.filter(pk=conversation.pk).update(
        due_at=again.created_at - timedelta(days=30))
    assert targets.retime_open(conversation.organisation_id, settings_row) == 1
    conversation.refresh_from_db()
    assert conversation.due_at == targets.due_at(again.created_at, settings_row)
    assert targets.waiting_since(conversation) == again.created_at
